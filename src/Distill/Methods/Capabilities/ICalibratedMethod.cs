namespace Distill.Methods;

/// <summary>
/// A method with a calibration pass before some epochs (Matching Guided Distillation's matching step): when
/// <see cref="NeedsCalibration"/> says so, the trainer runs both networks in eval mode under no-grad over up to
/// <see cref="CalibrationImages"/> training images (the upcoming epoch's order), hands each batch to
/// <see cref="Calibrate"/> between <see cref="BeginCalibration"/> and <see cref="EndCalibration"/>, then trains the epoch.
/// </summary>
public interface ICalibratedMethod
{
    /// <summary>How many training images a calibration pass reads.</summary>
    int CalibrationImages { get; }

    /// <summary>Whether the method wants a calibration pass before epoch <paramref name="epoch"/> (1-based).</summary>
    bool NeedsCalibration(int epoch);

    /// <summary>Starts a calibration pass.</summary>
    void BeginCalibration();

    /// <summary>One calibration batch (taps recorded, no gradients).</summary>
    void Calibrate(DistillationInputs inputs);

    /// <summary>Ends a calibration pass: the method updates its state from what it saw (also after a pass cut short by an error).</summary>
    void EndCalibration();
}
