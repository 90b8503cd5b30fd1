using Xunit;

// Seeds, grad mode and live-tensor counts are process-wide.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
