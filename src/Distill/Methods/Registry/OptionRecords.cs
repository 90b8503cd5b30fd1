using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using Distill.Schema;

namespace Distill.Methods;

/// <summary>
/// Reads a method's <see cref="MethodOptions"/> record by reflection: its options (declaration order, base record
/// first) as <see cref="MethodOption"/> values, a record bound from string-keyed values, and the checks every value
/// passes (minimum, allowed choices) whether it came from a recipe, a dictionary or a typed record.
/// </summary>
internal static class OptionRecords
{
    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, MethodOption Option)[]> Cache = new();

    /// <summary>The options of <paramref name="type"/>, each with its property.</summary>
    /// <exception cref="InvalidOperationException">A settable property has no <see cref="OptionInfoAttribute"/> or an unsupported type.</exception>
    public static IReadOnlyList<(PropertyInfo Property, MethodOption Option)> Of(Type type) => Cache.GetOrAdd(type, Read);

    /// <summary>A record of <paramref name="type"/> with the given values (keyed by option key) over the defaults.</summary>
    /// <exception cref="ArgumentException">A value cannot be converted to its option's type.</exception>
    public static MethodOptions Bind(Type type, string method, IReadOnlyDictionary<string, object> given)
    {
        var options = (MethodOptions)Activator.CreateInstance(type)!;
        foreach (var (property, option) in Of(type))
        {
            if (given.TryGetValue(option.Key, out var value))
            {
                property.SetValue(options, Convert(value, property.PropertyType, method, option));
            }
        }

        return options;
    }

    /// <summary>Checks every value of <paramref name="options"/> against its option's minimum and choices.</summary>
    /// <exception cref="ArgumentException">A value is out of bounds: the message names the method, key, value and bound.</exception>
    public static void Validate(string method, MethodOptions options)
    {
        foreach (var (property, option) in Of(options.GetType()))
        {
            var value = property.GetValue(options);
            switch (value)
            {
                case null when Nullable.GetUnderlyingType(property.PropertyType) is not null:
                    break;
                case null:
                    throw new ArgumentException($"method {method}: {option.Key} is null; give a value (default {option.FormatDefault()})");
                case double d when !double.IsFinite(d) || d < option.Minimum:
                    throw new ArgumentException($"method {method}: {option.Key} is {MethodOption.Format(d)}; expected a number >= {MethodOption.Format(option.Minimum)}");
                case int i when i < option.Minimum:
                    throw new ArgumentException($"method {method}: {option.Key} is {i}; expected an integer >= {MethodOption.Format(option.Minimum)}");
                case string s when option.Allowed.Count > 0 && !option.Allowed.Contains(s):
                    throw new ArgumentException($"method {method}: {option.Key} is '{s}'; expected one of {string.Join(", ", option.Allowed)}");
            }
        }
    }

    /// <summary>"CeWeight" -> "ce_weight", "TStart" -> "t_start", "NceK" -> "nce_k".</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (!char.IsUpper(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    private static (PropertyInfo, MethodOption)[] Read(Type type)
    {
        var chain = new List<Type>();
        for (var t = type; t is not null && t != typeof(MethodOptions) && t != typeof(object); t = t.BaseType)
        {
            chain.Insert(0, t);
        }

        var defaults = Activator.CreateInstance(type) ?? throw new InvalidOperationException($"{type} has no parameterless constructor");
        return chain.SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(p => p.SetMethod is { IsPublic: true }).OrderBy(p => p.MetadataToken))
            .Select(p => (p, Describe(type, p, defaults))).ToArray();
    }

    private static MethodOption Describe(Type type, PropertyInfo property, object defaults)
    {
        var info = property.GetCustomAttribute<OptionInfoAttribute>()
            ?? throw new InvalidOperationException($"{type.FullName}.{property.Name} has no [OptionInfo(...)]: every settable property of a method's options is an option");
        var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var kind = target == typeof(double) ? OptionKind.Number
            : target == typeof(int) ? OptionKind.Integer
            : target == typeof(bool) ? OptionKind.Boolean
            : target == typeof(string) ? (info.Choices.Length > 0 ? OptionKind.Choice : OptionKind.Text)
            : target == typeof(IReadOnlyList<int>) ? OptionKind.IntegerList
            : target == typeof(IReadOnlyList<double>) ? OptionKind.NumberList
            : target == typeof(IReadOnlyList<string>) ? OptionKind.StringList
            : throw new InvalidOperationException($"{type.FullName}.{property.Name}: {property.PropertyType} is not an option type (double, int, bool, string, IReadOnlyList of int, double or string)");
        var value = property.GetValue(defaults);
        if (value is null && info.ResolvedBy is { } resolver)
        {
            value = type.GetProperty(resolver)?.GetValue(defaults)
                ?? throw new InvalidOperationException($"{type.FullName}.{property.Name}: ResolvedBy names no property '{resolver}' with a value");
        }

        object shown = value switch
        {
            IReadOnlyList<int> list => list.ToArray(),
            IReadOnlyList<double> list => list.ToArray(),
            IReadOnlyList<string> list => list.ToArray(),
            null => throw new InvalidOperationException($"{type.FullName}.{property.Name} has no default (a nullable option needs ResolvedBy)"),
            _ => value,
        };
        var minimum = kind is OptionKind.Number or OptionKind.Integer ? info.Minimum : double.NegativeInfinity;
        return new MethodOption(info.Key ?? SnakeCase(property.Name), kind, shown, info.Description)
        {
            Minimum = minimum,
            Allowed = info.Choices,
            Aliases = info.Aliases,
        };
    }

    private static object Convert(object value, Type type, string method, MethodOption option)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsInstanceOfType(value))
        {
            return value;
        }

        var invariant = CultureInfo.InvariantCulture;
        object? converted = (option.Kind, value) switch
        {
            (OptionKind.Number, int or long or float or decimal) => System.Convert.ToDouble(value, invariant),
            (OptionKind.Integer, long l) when l is >= int.MinValue and <= int.MaxValue => (int)l,
            (OptionKind.Integer, double d) when d == Math.Round(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
            (OptionKind.NumberList, IEnumerable list) when list.Cast<object>().All(o => o is int or long or float or double) =>
                list.Cast<object>().Select(o => System.Convert.ToDouble(o, invariant)).ToArray(),
            (OptionKind.IntegerList, IEnumerable<long> list) when list.All(l => l is >= int.MinValue and <= int.MaxValue) => list.Select(l => (int)l).ToArray(),
            (OptionKind.StringList, IEnumerable<string> list) => list.ToArray(),
            _ => null,
        };
        return converted ?? throw new ArgumentException(
            $"method {method}: {option.Key} is {MethodOption.Format(value)} ({value.GetType().Name}); expected {option.Kind switch
            {
                OptionKind.Number => "a number",
                OptionKind.Integer => "an integer",
                OptionKind.Boolean => "true or false",
                OptionKind.IntegerList => "a list of integers",
                OptionKind.NumberList => "a list of numbers",
                OptionKind.StringList => "a list of strings",
                _ => "a string",
            }}");
    }
}
