using TeleRehab.Media.Echo;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Issue 9 with a WebRTC stack we did not write: werift (TypeScript, run with node) offers a data channel to
/// POST /api/echo, runs ICE, DTLS (as the DTLS client: our answer says passive) and SCTP against the server, and
/// sends messages of 1 byte to 64 KiB, text and binary, on an ordered reliable channel; all come back intact and in
/// order, and the channel the echo opens from the server side reaches werift. The script is
/// tests/Support/werift/echo.mjs; scripts/install-test-deps.sh installs its node modules.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WeriftDataChannelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;

    public async Task InitializeAsync() => _host = await AppHost.StartAsync(("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Werift_echoes_messages_of_1_byte_to_64_KiB_in_order_and_sees_the_servers_channel()
    {
        var run = await ExternalPeer.RunNodeAsync("werift", "werift", "echo.mjs", TimeSpan.FromSeconds(90), _host.BaseAddress.ToString());
        var result = ExternalPeer.Result(run, "werift", output.WriteLine);
        var exitCode = run.ExitCode;
        if (result.TryGetProperty("ufrag", out var ufrag) && ufrag.GetString() is { } u && _host.Media.FindPeer(u) is EchoSession echo
            && echo.DataChannels is { } transport)
        {
            var c = transport.Association?.Counters;
            output.WriteLine($"server: packets in {transport.PacketsReceived} dropped {transport.PacketsDropped} out {transport.PacketsSent}, " +
                $"association {transport.Association?.State}, bad packets {c?.BadPacketsDropped}, chunks dropped {c?.ChunksDropped}, " +
                $"messages in {transport.MessagesReceived}, refused {transport.ChannelsRefused}, protocol drops {transport.ProtocolDrops}, " +
                $"recent chunks [{string.Join(", ", transport.RecentChunkTypes())}]");
        }
        Assert.Equal(0, result.GetProperty("problems").GetArrayLength());
        Assert.Equal(0, exitCode);
        Assert.Equal("client", result.GetProperty("dtlsRole").GetString());
        Assert.Equal("open", result.GetProperty("channel").GetString());
        Assert.Equal(18, result.GetProperty("sent").GetInt32());
        Assert.Equal(18, result.GetProperty("received").GetInt32());
        Assert.Equal(EchoSession.ServerChannelLabel, result.GetProperty("serverChannel").GetString());
        Assert.Equal(EchoSession.ServerChannelGreeting, result.GetProperty("greeting").GetString());
        Assert.True(_host.Media.DataChannels.MessagesReceivedTotal >= 18);
    }
}
