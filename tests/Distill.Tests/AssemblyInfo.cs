using Xunit;

// Seeds and live-tensor counts are process-wide.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
