using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Issue 9, layer 3 with a real browser: headless Chromium opens the pose data channel beside its camera and
/// microphone against POST /api/echo. The answer accepts the data channel section in the same BUNDLE transport,
/// DTLS completes, media still comes back, and the server's data channel transport receives Chromium's SCTP INIT
/// (chunk type 1, port 5000, right CRC32c) as DTLS application data. Nobody answers the INIT yet (the association is
/// the next layer), so Chromium retransmits it and the channel stays "connecting".</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserDataChannelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AppHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _host = await AppHost.StartAsync(("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _host.DisposeAsync();
    }

    // The page's side: camera, microphone and the pose channel in one offer, answered by the server's echo.
    private const string StartScript = """
        async () => {
          const pc = new RTCPeerConnection();
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
          for (const track of stream.getTracks()) pc.addTrack(track, stream);
          const dc = pc.createDataChannel("pose", { ordered: false, maxRetransmits: 0 });
          window.dcTest = { pc, dc };
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          const response = await fetch("/api/echo?transport=udp", {
            method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp });
          const answer = await response.text();
          if (response.status !== 201) throw new Error("echo refused the offer: " + response.status + " " + answer);
          await pc.setRemoteDescription({ type: "answer", sdp: answer });
          return { offer: offer.sdp, answer };
        }
        """;

    private const string StatsScript = """
        async () => {
          const { pc, dc } = window.dcTest;
          let framesDecoded = 0, audioPacketsReceived = 0;
          for (const s of (await pc.getStats()).values()) {
            if (s.type === "inbound-rtp" && s.kind === "video") framesDecoded += s.framesDecoded || 0;
            if (s.type === "inbound-rtp" && s.kind === "audio") audioPacketsReceived += s.packetsReceived || 0;
          }
          const dtls = pc.sctp && pc.sctp.transport ? pc.sctp.transport.state : null;
          return { connectionState: pc.connectionState, sctpDtlsState: dtls, channelState: dc.readyState,
                   framesDecoded, audioPacketsReceived };
        }
        """;

    [Fact]
    public async Task Chromium_pose_channel_sends_its_sctp_init_over_dtls_while_media_still_echoes()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true });
        var page = await context.NewPageAsync();
        page.Console += (_, message) => output.WriteLine($"[browser] {message.Text}");
        await page.GotoAsync(new Uri(_host.BaseAddress, "/echo.html").ToString());

        var exchange = await page.EvaluateAsync<JsonElement>(StartScript);
        var offerSdp = exchange.GetProperty("offer").GetString()!;
        var answerSdp = exchange.GetProperty("answer").GetString()!;
        output.WriteLine("offer:\n" + offerSdp);
        output.WriteLine("answer:\n" + answerSdp);

        // The answer: the data channel section accepted in the media's BUNDLE group, on the same transport.
        Assert.True(SessionDescription.TryParse(answerSdp, out var answer, out var parseError), parseError);
        var data = Assert.Single(answer!.Media, m => m.Kind == "application");
        Assert.NotEqual(0, data.Port);
        Assert.Equal(5000, data.SctpPort);
        Assert.Equal(262144L, data.MaxMessageSize);
        Assert.Contains(data.Mid!, answer.BundleMids);
        Assert.Equal(answer.Media.Count, answer.BundleMids.Count);
        Assert.All(answer.Media, m => Assert.Equal(answer.Media[0].IceUfrag, m.IceUfrag));

        var echo = Assert.IsType<EchoSession>(_host.Media.FindPeer(answer.Media[0].IceUfrag!));
        var transport = echo.DataChannels;
        Assert.NotNull(transport);

        // DTLS up, media flowing both ways through the echo, and Chromium's INIT seen by the transport.
        JsonElement stats = default;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (DateTime.UtcNow < deadline)
        {
            stats = await page.EvaluateAsync<JsonElement>(StatsScript);
            if (stats.GetProperty("framesDecoded").GetInt32() > 0 && stats.GetProperty("audioPacketsReceived").GetInt32() > 0
                && transport!.PacketsReceived > 0)
                break;
            await Task.Delay(250);
        }
        output.WriteLine(stats.ToString());
        output.WriteLine($"server: received {transport!.PacketsReceived}, dropped {transport.PacketsDropped}, " +
                         $"first chunk types [{string.Join(", ", transport.RecentChunkTypes())}], echoed {echo.PacketsEchoed}");

        Assert.Equal("connected", stats.GetProperty("connectionState").GetString());
        Assert.Equal("connected", stats.GetProperty("sctpDtlsState").GetString());
        Assert.True(stats.GetProperty("framesDecoded").GetInt32() > 0);
        Assert.True(stats.GetProperty("audioPacketsReceived").GetInt32() > 0);
        Assert.True(echo.PacketsEchoed > 0);

        Assert.True(transport.PacketsReceived > 0, "no SCTP packet reached the server's data channel transport");
        Assert.Equal(0, transport.PacketsDropped);
        Assert.Contains((byte)1, transport.RecentChunkTypes()); // INIT (RFC 9260 §3.3.2)
        Assert.Equal(0, echo.Connection.UnroutedApplicationData);
        // Nobody answers the INIT yet: the channel waits.
        Assert.Equal("connecting", stats.GetProperty("channelState").GetString());
        await context.CloseAsync();
    }
}
