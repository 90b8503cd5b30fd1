namespace Distill.Configs;

/// <summary>
/// When a recipe key applies (e.g. train.momentum only to sgd). Where it does not, the writer leaves the key out
/// and, when <see cref="Refused"/>, the loader refuses the key at its line with <see cref="Refusal"/>'s message.
/// </summary>
/// <param name="Holds">Whether the key applies to this recipe.</param>
/// <param name="Refusal">The message when the key is given but does not apply.</param>
/// <param name="Refused">
/// False for a key that older recipes always wrote (train.milestones): it is accepted and ignored where it does not
/// apply, so those recipes and their checkpoints still load.
/// </param>
internal sealed record RecipeCondition(Func<RunConfig, bool> Holds, Func<RunConfig, string> Refusal, bool Refused = true);
