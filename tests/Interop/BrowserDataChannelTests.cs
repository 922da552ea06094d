using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Issue 9 with a real browser: headless Chromium opens the pose data channel (unordered, no retransmissions)
/// and an ordered reliable "chat" channel beside its camera and microphone against POST /api/echo. The answer accepts
/// the data channel section in the same BUNDLE transport, DTLS and SCTP come up, media still comes back, both
/// channels open, every message from 1 byte to 64 KiB (text and binary) comes back intact and in order, and the
/// channel the echo opens from the server side reaches the page (<c>ondatachannel</c>) with its greeting.</summary>
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
          const chat = pc.createDataChannel("chat");
          chat.binaryType = "arraybuffer";
          const server = { label: null, messages: [] };
          pc.ondatachannel = e => {
            server.label = e.channel.label;
            e.channel.onmessage = m => server.messages.push(typeof m.data === "string" ? m.data : "(binary)");
          };
          window.dcTest = { pc, dc, chat, server };
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
                   chatState: window.dcTest.chat.readyState, framesDecoded, audioPacketsReceived,
                   serverChannel: window.dcTest.server.label, serverMessages: window.dcTest.server.messages };
        }
        """;

    // Sends the test messages (sizes 1 B to 64 KiB, three of each, text and binary alternating, distinct content) on the
    // chat channel and checks what the echo sends back: same count, order, type and bytes.
    private const string ExchangeScript = """
        async () => {
          const { chat } = window.dcTest;
          const sizes = [1, 100, 1200, 1300, 16 * 1024, 64 * 1024];
          const sent = [];
          let n = 0;
          for (const size of sizes) for (let k = 0; k < 3; k++, n++) {
            const text = n % 2 === 0;
            const bytes = new Uint8Array(size);
            for (let i = 0; i < size; i++) bytes[i] = text ? 97 + (i * 7 + n) % 26 : (i * 31 + n * 17) & 255;
            sent.push(text ? new TextDecoder().decode(bytes) : bytes);
          }
          const received = [];
          const done = new Promise((resolve, reject) => {
            chat.onmessage = e => { received.push(e.data); if (received.length === sent.length) resolve(); };
            setTimeout(() => reject(new Error("only " + received.length + " of " + sent.length + " came back")), 30000);
          });
          for (const m of sent) chat.send(m);
          await done;
          const problems = [];
          let bytes = 0;
          for (let i = 0; i < sent.length; i++) {
            const a = sent[i], b = received[i];
            if (typeof a === "string") {
              if (typeof b !== "string" || a !== b) problems.push(i + ": text differs");
              bytes += a.length;
            } else {
              const v = b instanceof ArrayBuffer ? new Uint8Array(b) : null;
              if (!v || v.length !== a.length || v.some((x, j) => x !== a[j])) problems.push(i + ": binary differs");
              bytes += a.length;
            }
          }
          return { count: received.length, bytes, problems };
        }
        """;

    [Fact]
    public async Task Chromium_channels_open_and_echo_messages_of_1_byte_to_64_KiB_in_order_while_media_still_echoes()
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
                && stats.GetProperty("chatState").GetString() == "open" && stats.GetProperty("channelState").GetString() == "open"
                && stats.GetProperty("serverMessages").GetArrayLength() > 0)
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

        Assert.True(transport.IsConnected, "the SCTP association did not come up");
        Assert.Equal(0, transport.PacketsDropped);
        Assert.Equal(0, echo.Connection.UnroutedApplicationData);
        Assert.Equal("open", stats.GetProperty("channelState").GetString());
        Assert.Equal("open", stats.GetProperty("chatState").GetString());
        Assert.Equal(EchoSession.ServerChannelLabel, stats.GetProperty("serverChannel").GetString());
        Assert.Equal(EchoSession.ServerChannelGreeting, stats.GetProperty("serverMessages")[0].GetString());
        Assert.Contains(transport.Channels.Values, c => c.Label == "pose" && !c.Ordered && c.ReliabilityParameter == 0);

        var result = await page.EvaluateAsync<JsonElement>(ExchangeScript);
        output.WriteLine($"exchange: {result}");
        Assert.Equal(18, result.GetProperty("count").GetInt32());
        Assert.Equal(0, result.GetProperty("problems").GetArrayLength());
        Assert.Equal(0, echo.DataChannelEchoFailures);
        Assert.Equal(18, transport.MessagesReceived);
        Assert.Equal(PeerConnectionState.Connected, echo.Connection.State);
        await context.CloseAsync();
    }
}
