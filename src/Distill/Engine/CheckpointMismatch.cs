using Distill.Configs;
using Distill.NN;
using Distill.Torch;

namespace Distill.Engine;

/// <summary>
/// Loads a checkpoint's state dict into a model and turns a mismatch (a checkpoint of another model) into
/// a one-line <see cref="ConfigException"/> naming the file, the setting that chose the model, and a few
/// missing and unexpected keys.
/// </summary>
public static class CheckpointMismatch
{
    private const int Shown = 3;

    /// <summary>Loads <paramref name="state"/> into <paramref name="model"/> strictly.</summary>
    /// <param name="model">The model built from <paramref name="setting"/>.</param>
    /// <param name="state">The checkpoint's model state.</param>
    /// <param name="path">The checkpoint file, for the message.</param>
    /// <param name="setting">The recipe key or flag that names the model, e.g. "teacher.model" or "--model".</param>
    /// <param name="modelName">The model's name, e.g. "resnet20".</param>
    /// <exception cref="ConfigException">The state does not fit the model; nothing was loaded.</exception>
    public static void Load(Module model, IReadOnlyDictionary<string, Tensor> state, string path, string setting, string modelName)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            model.LoadStateDict(state);
        }
        catch (StateDictMismatchException e)
        {
            throw new ConfigException($"{path} does not fit {setting} {modelName} (a checkpoint of another model?): {Summary(e)}", e);
        }
    }

    /// <summary>The mismatch in one line: counts and the first few keys of each kind.</summary>
    public static string Summary(StateDictMismatchException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var result = exception.Result;
        var parts = new List<string>();
        Add("missing keys", result.MissingKeys);
        Add("unexpected keys", result.UnexpectedKeys);
        Add("shape mismatches", result.ShapeMismatches);
        return parts.Count == 0 ? exception.Message.ReplaceLineEndings(" ") : string.Join("; ", parts);

        void Add(string kind, IReadOnlyList<string> keys)
        {
            if (keys.Count > 0)
            {
                parts.Add($"{kind} ({keys.Count}): {string.Join(", ", keys.Take(Shown))}{(keys.Count > Shown ? ", ..." : string.Empty)}");
            }
        }
    }
}
