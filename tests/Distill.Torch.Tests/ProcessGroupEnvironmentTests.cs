using Distill.Torch.Distributed;
using Xunit;

namespace Distill.Torch.Tests;

public sealed class ProcessGroupEnvironmentTests
{
    private static readonly Dictionary<string, string?> Good = new()
    {
        ["RANK"] = "1", ["WORLD_SIZE"] = "4", ["MASTER_ADDR"] = " node0 ", ["MASTER_PORT"] = "29500",
    };

    [Fact]
    public void ReadEnvironment_TorchrunVariables_GiveAddressPortRankAndWorldSize() =>
        Assert.Equal(("node0", 29500, 1, 4), ProcessGroup.ReadEnvironment(n => Good.GetValueOrDefault(n)));

    [Theory]
    [InlineData("RANK", null, "RANK is not set")]
    [InlineData("RANK", "4", "RANK='4' is not usable: it must be 0 to 3 (WORLD_SIZE is 4)")]
    [InlineData("RANK", "-1", "RANK='-1'")]
    [InlineData("WORLD_SIZE", "0", "WORLD_SIZE='0' is not usable")]
    [InlineData("WORLD_SIZE", "two", "WORLD_SIZE='two'")]
    [InlineData("MASTER_ADDR", "", "MASTER_ADDR is not set")]
    [InlineData("MASTER_PORT", "70000", "MASTER_PORT='70000' is not usable: it must be a TCP port, 1 to 65535")]
    [InlineData("MASTER_PORT", null, "MASTER_PORT is not set")]
    public void ReadEnvironment_MissingOrBadVariable_NamesIt(string name, string? value, string message)
    {
        var env = new Dictionary<string, string?>(Good) { [name] = value };
        var e = Assert.Throws<EnvironmentSettingException>(() => ProcessGroup.ReadEnvironment(n => env.GetValueOrDefault(n)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 2, 29500)]
    [InlineData(2, 2, 29500)]
    [InlineData(0, 0, 29500)]
    [InlineData(0, 2, 0)]
    public void Create_OutOfRangeArguments_AreRejectedBeforeAnyRendezvous(int rank, int worldSize, int port) =>
        Assert.ThrowsAny<ArgumentException>(() => ProcessGroup.Create("127.0.0.1", port, rank, worldSize, TimeSpan.FromSeconds(1)));
}
