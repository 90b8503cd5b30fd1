using System.Buffers.Binary;
using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;
using Distill.Configs;
using Distill.Engine;
using Distill.Methods;
using Distill.Models;
using Xunit;
using Distill.Schema;

namespace Distill.Tests;

/// <summary>
/// Configs and Methods do not depend on each other. Two independent scans: the compiled assembly (every type a
/// type of the namespace declares, inherits, stores, takes, returns, catches, or names in its IL, lambdas and
/// iterators included) and the source folders (constants are inlined by the compiler, so only the source shows
/// them). Each scan is proven to see such references where they exist.
/// </summary>
public sealed class NamespaceDependencyTests
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Assembly Distill = typeof(ClassificationModel).Assembly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).GroupBy(o => o.Value).ToDictionary(g => g.Key, g => g.First());

    [Theory]
    [InlineData("Distill.Configs", "Distill.Methods")]
    [InlineData("Distill.Methods", "Distill.Configs")]
    public void CompiledNamespace_ReferencesNoTypeOfTheOther(string from, string other)
    {
        var references = References(from).ToArray();
        Assert.NotEmpty(references);
        Assert.Empty(references.Where(r => InNamespace(r.Target, other)).Select(r => $"{r.Source} -> {r.Target.FullName}").Distinct());
    }

    [Fact]
    public void AssemblyScan_SeesSignaturesCallsInterfacesAndLambdas()
    {
        var engine = References("Distill.Engine").ToArray();
        var targets = engine.Select(r => r.Target).ToHashSet();
        Assert.Contains(typeof(IMethodSchema), targets); // an implemented interface (MethodRegistrySchema)
        Assert.Contains(typeof(MethodConfig), targets); // a parameter type (MethodBuilder.Create)
        Assert.Contains(typeof(MethodFactory), targets); // a static call in a method body
        Assert.Contains(engine, r => r.Source.Contains("<>", StringComparison.Ordinal) && InNamespace(r.Target, "Distill.Methods")); // a lambda's closure class
    }

    [Theory]
    [InlineData("Configs", "Methods")]
    [InlineData("Methods", "Configs")]
    public void SourceFolder_NamesNothingOfTheOther(string folder, string other)
    {
        var files = Directory.EnumerateFiles(Path.Combine(SourceRoot(), "src", "Distill", folder), "*.cs", SearchOption.AllDirectories).ToArray();
        Assert.NotEmpty(files);
        var pattern = Mentions(other);
        Assert.Empty(files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, line, i))).Where(x => pattern.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(SourceRoot(), x.f)}:{x.i + 1}: {x.line.Trim()}"));
    }

    [Theory]
    [InlineData("using Distill.Methods;", true)]
    [InlineData("using static Distill.Methods.MethodFactory;", true)]
    [InlineData("using O = Distill.Methods.MethodOption;", true)]
    [InlineData("var names = Methods.MethodFactory.Names;", true)] // inside namespace Distill.*, "Methods." reaches Distill.Methods
    [InlineData("var kind = global::Distill.Methods.OptionKind.Number;", true)]
    [InlineData("/// <see cref=\"Distill.Methods.MethodOption\"/>", true)]
    [InlineData("var names = methods.Names;", false)]
    [InlineData("/// the engine supplies it (<c>Distill.Engine.Recipes.Methods</c>).", false)]
    public void SourceScan_SeesEveryWayOfNamingTheNamespace(string line, bool mentions) => Assert.Equal(mentions, Mentions("Methods").IsMatch(line));

    /// <summary>"Distill.X" anywhere, or "X.Name" not preceded by another name (a partial qualification from inside namespace Distill).</summary>
    private static Regex Mentions(string folder) => new($@"\bDistill\.{folder}\b|(?<![\w.])(global::)?{folder}\.[A-Z]", RegexOptions.CultureInvariant);

    private static bool InNamespace(Type type, string ns) => type.Namespace is { } n && (n == ns || n.StartsWith(ns + ".", StringComparison.Ordinal));

    /// <summary>Every type that a type of <paramref name="ns"/> (nested and compiler-generated types included) refers to, with where.</summary>
    private static IEnumerable<(string Source, Type Target)> References(string ns)
    {
        foreach (var type in Distill.GetTypes().Where(t => InNamespace(t, ns)))
        {
            var typeArguments = type.IsGenericTypeDefinition ? type.GetGenericArguments() : Type.EmptyTypes;
            var own = Expand(type.BaseType).Concat(type.GetInterfaces().SelectMany(Expand)).Concat(Attributes(type.CustomAttributes))
                .Concat(type.GetFields(Declared).SelectMany(f => Expand(f.FieldType).Concat(Attributes(f.CustomAttributes))))
                .Concat(type.GetProperties(Declared).SelectMany(p => Expand(p.PropertyType).Concat(Attributes(p.CustomAttributes))))
                .Concat(type.GetEvents(Declared).SelectMany(e => Expand(e.EventHandlerType)));
            foreach (var target in own)
            {
                yield return (type.FullName!, target);
            }

            foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                var methodArguments = method.IsGenericMethodDefinition ? method.GetGenericArguments() : Type.EmptyTypes;
                var body = method.GetMethodBody();
                var targets = Expand(method).Concat(Attributes(method.CustomAttributes))
                    .Concat(body?.LocalVariables.SelectMany(l => Expand(l.LocalType)) ?? [])
                    .Concat(body?.ExceptionHandlingClauses.Where(c => c.Flags == ExceptionHandlingClauseOptions.Clause).SelectMany(c => Expand(c.CatchType)) ?? [])
                    .Concat(Tokens(body?.GetILAsByteArray() ?? []).SelectMany(token => Expand(method.Module.ResolveMember(token, typeArguments, methodArguments))));
                foreach (var target in targets)
                {
                    yield return ($"{type.FullName}::{method.Name}", target);
                }
            }
        }
    }

    /// <summary>The metadata tokens (types, methods, fields) that an IL body's instructions name.</summary>
    private static IEnumerable<int> Tokens(byte[] il)
    {
        for (var i = 0; i < il.Length;)
        {
            var code = OpCodesByValue[il[i] == 0xFE ? unchecked((short)(0xFE00 | il[i + 1])) : il[i]];
            i += code.Size;
            if (code.OperandType is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType)
            {
                yield return BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(i));
            }

            i += code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(i))),
                _ => 4,
            };
        }
    }

    /// <summary>The types a member or type stands for: a type with its element and generic arguments; a method's declaring type and signature; a field's.</summary>
    private static IEnumerable<Type> Expand(MemberInfo? member) => member switch
    {
        null => [],
        Type { IsGenericParameter: true } => [],
        Type { HasElementType: true } t => Expand(t.GetElementType()),
        Type { IsGenericType: true, IsGenericTypeDefinition: false } t => t.GetGenericArguments().SelectMany(Expand).Prepend(t.GetGenericTypeDefinition()),
        Type t => [t],
        MethodInfo m => Expand(m.DeclaringType).Concat(Expand(m.ReturnType)).Concat(m.GetParameters().SelectMany(p => Expand(p.ParameterType)))
            .Concat(m.IsGenericMethod ? m.GetGenericArguments().SelectMany(Expand) : []),
        MethodBase m => Expand(m.DeclaringType).Concat(m.GetParameters().SelectMany(p => Expand(p.ParameterType))),
        FieldInfo f => Expand(f.DeclaringType).Concat(Expand(f.FieldType)),
        _ => Expand(member.DeclaringType),
    };

    private static IEnumerable<Type> Attributes(IEnumerable<CustomAttributeData> attributes) =>
        attributes.SelectMany(a => Expand(a.AttributeType).Concat(a.ConstructorArguments.Concat(a.NamedArguments.Select(n => n.TypedValue)).SelectMany(v => Expand(v.Value as Type))));

    private static string SourceRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
