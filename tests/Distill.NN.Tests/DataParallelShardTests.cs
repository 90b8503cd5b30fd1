using Distill.NN.Data;
using Xunit;

namespace Distill.NN.Tests;

/// <summary>Data-parallel sharding: every rank sees the same epoch order, padded by wrapping, at positions rank, rank + W, ...</summary>
public sealed class DataParallelShardTests
{
    [Theory]
    [InlineData(10, 3)]
    [InlineData(12, 4)]
    [InlineData(7, 1)]
    public void Shards_PartitionThePaddedEpochOrder_AndEveryRankHasTheSameLength(int count, int worldSize)
    {
        var data = new InMemoryImageDataset(new byte[count * 4], new int[count], 1, 2, 2, ["a"]);
        var global = new DataLoader(data, 2, shuffle: true, seed: 11).EpochOrder(3).Order;
        var shards = Enumerable.Range(0, worldSize).Select(r => new DataLoader(data, 2, shuffle: true, seed: 11, rank: r, worldSize: worldSize).EpochOrder(3).Order).ToArray();
        var length = (count + worldSize - 1) / worldSize;
        Assert.All(shards, s => Assert.Equal(length, s.Length));
        for (var r = 0; r < worldSize; r++)
        {
            Assert.Equal(Enumerable.Range(0, length).Select(i => global[((i * worldSize) + r) % count]).ToArray(), shards[r]);
        }

        Assert.Equal(Enumerable.Range(0, count), shards.SelectMany(s => s).Distinct().Order());
        Assert.Equal((length + 1) / 2, new DataLoader(data, 2, rank: 0, worldSize: worldSize).BatchCount);
    }

    [Fact]
    public void RankOutsideTheWorld_IsRejected()
    {
        var data = new InMemoryImageDataset(new byte[4], [0], 1, 2, 2, ["a"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(data, 1, rank: 2, worldSize: 2));
    }
}
