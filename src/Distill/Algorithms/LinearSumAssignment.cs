namespace Distill.Algorithms;

/// <summary>
/// The linear sum assignment (minimum-cost matching of rows to columns, scipy's linear_sum_assignment):
/// the shortest-augmenting-path Hungarian algorithm with row and column potentials (Jonker-Volgenant
/// style), O(n² m) for n rows and m ≥ n columns, in double precision with exact comparisons, so ties
/// resolve deterministically (the lowest column index wins). More rows than columns is solved on the
/// transpose; rows left without a column get −1.
/// </summary>
public static class LinearSumAssignment
{
    /// <summary>The column assigned to each row of <paramref name="cost"/> (row-major, <paramref name="rows"/> × <paramref name="columns"/>).</summary>
    /// <exception cref="ArgumentException">The sizes do not match the data, or a cost is NaN or infinite (the message names the cell).</exception>
    public static int[] Solve(ReadOnlySpan<double> cost, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (cost.Length != (long)rows * columns)
        {
            throw new ArgumentException($"a {rows} x {columns} cost matrix needs {(long)rows * columns} values; {cost.Length} were given", nameof(cost));
        }

        for (var k = 0; k < cost.Length; k++)
        {
            if (!double.IsFinite(cost[k]))
            {
                throw new ArgumentException($"cost[{k / columns}, {k % columns}] is {cost[k]}; costs must be finite", nameof(cost));
            }
        }

        if (rows <= columns)
        {
            return SolveWide(cost, rows, columns);
        }

        var transposed = new double[cost.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                transposed[(j * rows) + i] = cost[(i * columns) + j];
            }
        }

        var columnToRow = SolveWide(transposed, columns, rows);
        var result = new int[rows];
        Array.Fill(result, -1);
        for (var j = 0; j < columns; j++)
        {
            result[columnToRow[j]] = j;
        }

        return result;
    }

    /// <summary>The column assigned to each row of a [rows, columns] cost matrix.</summary>
    public static int[] Solve(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        var (rows, columns) = (cost.GetLength(0), cost.GetLength(1));
        var flat = new double[rows * columns];
        Buffer.BlockCopy(cost, 0, flat, 0, flat.Length * sizeof(double));
        return Solve(flat, rows, columns);
    }

    /// <summary>The total cost of an assignment (rows with −1 add nothing).</summary>
    public static double TotalCost(ReadOnlySpan<double> cost, int columns, IReadOnlyList<int> assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var total = 0.0;
        for (var i = 0; i < assignment.Count; i++)
        {
            total += assignment[i] < 0 ? 0 : cost[(i * columns) + assignment[i]];
        }

        return total;
    }

    // rows <= columns. Arrays are 1-based with slot 0 a virtual column, as the classic formulation. The columns not
    // yet in the shortest-path tree are kept in a compact list, so each Dijkstra step scans only those.
    private static int[] SolveWide(ReadOnlySpan<double> cost, int n, int m)
    {
        var u = new double[n + 1];
        var v = new double[m + 1];
        var rowOf = new int[m + 1];
        var way = new int[m + 1];
        var minv = new double[m + 1];
        var free = new int[m];
        var tree = new int[m + 1];
        for (var i = 1; i <= n; i++)
        {
            rowOf[0] = i;
            var j0 = 0;
            var freeCount = m;
            for (var j = 0; j < m; j++)
            {
                free[j] = j + 1;
                minv[j + 1] = double.PositiveInfinity;
            }

            var treeCount = 0;
            tree[treeCount++] = 0;
            do
            {
                var i0 = rowOf[j0];
                var delta = double.PositiveInfinity;
                var best = -1;
                var row = cost.Slice((i0 - 1) * m, m);
                var ui = u[i0];
                for (var k = 0; k < freeCount; k++)
                {
                    var j = free[k];
                    var current = row[j - 1] - ui - v[j];
                    if (current < minv[j])
                    {
                        minv[j] = current;
                        way[j] = j0;
                    }

                    // Ties go to the lowest column index, as a scan over all columns in order would.
                    if (minv[j] < delta || (minv[j] == delta && best >= 0 && j < free[best]))
                    {
                        delta = minv[j];
                        best = k;
                    }
                }

                for (var t = 0; t < treeCount; t++)
                {
                    var j = tree[t];
                    u[rowOf[j]] += delta;
                    v[j] -= delta;
                }

                for (var k = 0; k < freeCount; k++)
                {
                    minv[free[k]] -= delta;
                }

                j0 = free[best];
                free[best] = free[--freeCount];
                tree[treeCount++] = j0;
            }
            while (rowOf[j0] != 0);

            do
            {
                var j1 = way[j0];
                rowOf[j0] = rowOf[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        var result = new int[n];
        for (var j = 1; j <= m; j++)
        {
            if (rowOf[j] != 0)
            {
                result[rowOf[j] - 1] = j - 1;
            }
        }

        return result;
    }
}
