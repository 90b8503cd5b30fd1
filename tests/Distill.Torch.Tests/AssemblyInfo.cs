using Xunit;

// The global random generator, grad mode and the live-tensor counter are process-wide: tests that
// seed, switch modes or count tensors must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
