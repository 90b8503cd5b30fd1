namespace Distill.Methods;

/// <summary>
/// The base of every method's typed options record (a nested <c>Options</c> record in the method's class): each
/// public init property carrying an <see cref="OptionInfoAttribute"/> is one recipe option, in declaration order,
/// its initialiser the default. The registry reads the records (<see cref="MethodFactory.Register{TOptions}"/>), so
/// `distill methods`, `distill check --describe`, recipes and `distill train` flags all see the same options.
/// </summary>
public abstract record MethodOptions
{
    /// <summary>False for teacher-free methods (the run neither loads nor runs a teacher).</summary>
    public virtual bool NeedsTeacher => true;
}
