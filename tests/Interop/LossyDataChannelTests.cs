using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using TeleRehab.LoadTests.Link;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Tests.Support;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Interop;

/// <summary>Issue 9 on a bad link: Chromium's unordered, <c>maxRetransmits: 0</c> channel (the pose overlay's kind)
/// talks to POST /api/echo through the project's link emulator with 10% random loss each way (about 19% of round
/// trips lost) and 40 ms of delay each way. Ten messages a second for ten seconds, numbered: most come back, losses never
/// hold up later messages (partial reliability: FORWARD TSN skips what was abandoned), and none arrives twice.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LossyDataChannelTests(ITestOutputHelper output) : IAsyncLifetime
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

    private static readonly LinkDirectionProfile Lossy =
        new(0, TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(5), LinkLoss.Random(0.10), TimeSpan.Zero);

    private const string Script = """
        async () => {
          const pc = new RTCPeerConnection();
          const dc = pc.createDataChannel("pose", { ordered: false, maxRetransmits: 0 });
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          const response = await fetch("/api/echo?transport=udp", {
            method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp });
          const answer = await response.text();
          if (response.status !== 201) throw new Error("echo refused the offer: " + response.status + " " + answer);
          await pc.setRemoteDescription({ type: "answer", sdp: answer });
          await new Promise((resolve, reject) => {
            dc.onopen = resolve;
            setTimeout(() => reject(new Error("the channel did not open: " + dc.readyState)), 30000);
          });
          const received = [];
          const t0 = performance.now();
          dc.onmessage = e => received.push({ seq: JSON.parse(e.data).seq, at: Math.round(performance.now() - t0) });
          const sent = 100;
          for (let seq = 0; seq < sent; seq++) {
            dc.send(JSON.stringify({ seq, pad: "x".repeat(80) }));   // about the size of one pose frame
            await new Promise(r => setTimeout(r, 100));
          }
          await new Promise(r => setTimeout(r, 2000));
          return { sent, received, ufrag: (/a=ice-ufrag:(\S+)/.exec(answer) || [])[1] };
        }
        """;

    [Fact]
    public async Task An_unordered_channel_without_retransmissions_delivers_most_messages_through_loss_and_never_stalls()
    {
        using var link = new UdpLinkEmulator(new UdpLinkEmulatorOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, _host.Media.UdpPort),
            Schedule = LinkSchedule.Constant(new LinkProfile("loss-10", Lossy, Lossy)),
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true });
        await WebRtcProbe.InstallAsync(context, link.LocalEndPoint);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_host.BaseAddress, "/echo.html").ToString());

        var result = await page.EvaluateAsync<JsonElement>(Script);
        var sent = result.GetProperty("sent").GetInt32();
        var received = result.GetProperty("received").EnumerateArray()
            .Select(e => (Seq: e.GetProperty("seq").GetInt32(), At: e.GetProperty("at").GetInt32())).ToList();
        var status = link.GetStatus();
        var seqs = received.Select(r => r.Seq).ToList();
        var longestGap = 0;
        for (int i = 1, previous = -1; i <= seqs.Count; i++)
        {
            var current = i < seqs.Count ? seqs[i] : sent;
            previous = seqs[i - 1];
            longestGap = Math.Max(longestGap, Math.Abs(current - previous) - 1);
        }
        var echo = _host.Media.FindPeer(result.GetProperty("ufrag").GetString()!) as EchoSession;
        var association = echo?.DataChannels?.Association;
        output.WriteLine($"sent {sent}, came back {seqs.Count} ({100.0 * seqs.Count / sent:0}%), distinct {seqs.Distinct().Count()}, " +
                         $"longest run lost {longestGap}, link up lost {status.Up.DroppedByLoss} of {status.Up.Delivered + status.Up.Dropped}, " +
                         $"down lost {status.Down.DroppedByLoss} of {status.Down.Delivered + status.Down.Dropped}; server: messages in " +
                         $"{echo?.DataChannels?.MessagesReceived}, abandoned {association?.Counters.MessagesAbandoned}, " +
                         $"FORWARD TSN sent {association?.Counters.ForwardTsnsSent}, received {association?.Counters.ForwardTsnsReceived}");
        output.WriteLine("came back: " + string.Join(" ", seqs));

        Assert.True(status.Up.DroppedByLoss > 0 && status.Down.DroppedByLoss > 0, "the link lost nothing: the test proves nothing");
        Assert.Equal(seqs.Count, seqs.Distinct().Count());                  // nothing twice
        Assert.True(seqs.Count >= sent * 0.6, $"only {seqs.Count} of {sent} came back");
        Assert.True(seqs.Count < sent, "nothing was lost on a lossy link without retransmissions?");
        Assert.Contains(seqs, s => s >= sent - 5);                          // the last ones still arrive
        Assert.True(longestGap <= 8, $"{longestGap} messages in a row were lost: a stall");
        // Every second of the run has deliveries: losses never blocked later messages.
        var seconds = received.Select(r => r.At / 1000).Distinct().Count();
        Assert.True(seconds >= 9, $"messages came back in only {seconds} distinct seconds");
        Assert.Equal(0, echo?.DataChannelEchoFailures ?? 0);
        await context.CloseAsync();
    }
}
