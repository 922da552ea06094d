using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The hosting tests share real sockets and a small machine: they run one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class HostingCollection
{
    public const string Name = "Hosting";
}

/// <summary>Helpers shared by the hosting tests: posting offers, connecting C# clients and checking the echo.</summary>
internal static class HostingTestKit
{
    /// <summary>Generous bound for anything that should happen "soon" on a loaded machine.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    private static readonly ConditionalWeakTable<WebRtcClient, StrongBox<int>> Sequences = new();

    public static EchoService Echo(this AppHost host) => host.Services.GetRequiredService<EchoService>();

    public static async Task<(HttpStatusCode Status, string Body)> PostOfferAsync(this AppHost host, string sdp, string query = "",
        string contentType = "application/sdp")
    {
        using var http = host.CreateClient();
        using var content = new StringContent(sdp, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.PostAsync($"/api/echo{query}", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<HttpStatusCode> HealthAsync(this AppHost host)
    {
        using var http = host.CreateClient();
        using var response = await http.GetAsync("/healthz");
        return response.StatusCode;
    }

    /// <summary>Makes a client, posts its offer to /api/echo, applies the answer and waits until DTLS is up.</summary>
    public static async Task<(WebRtcClient Client, string Answer)> ConnectEchoAsync(this AppHost host, MediaWorker worker,
        DtlsCertificate certificate, WebRtcClientOptions? options = null, string query = "?transport=udp")
    {
        var client = new WebRtcClient(worker, certificate, options ?? new WebRtcClientOptions { Video = false });
        try
        {
            var (status, answer) = await host.PostOfferAsync(client.Offer, query);
            Assert.True(status == HttpStatusCode.Created, $"POST /api/echo answered {(int)status}: {answer}");
            Assert.True(client.TryApplyAnswer(answer, out var error), error);
            await client.Connected.WaitAsync(Generous);
            return (client, answer);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends tagged audio RTP until one tagged packet comes back (true) or <paramref name="timeout"/> passes (false).</summary>
    public static async Task<bool> EchoesAsync(this WebRtcClient client, TimeSpan? timeout = null)
    {
        var tag = $"probe-{Guid.NewGuid():N}";
        var tagBytes = Encoding.ASCII.GetBytes(tag);
        var back = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RtpReceivedHandler = packet =>
        {
            if (RtpPacketReader.TryParse(packet, out var rtp) && rtp.Payload.SequenceEqual(tagBytes)) back.TrySetResult();
        };
        var audioPt = (byte)client.Session!.Media.First(m => m.Kind == "audio").Codecs[0].PayloadType;
        var buffer = new byte[1200];
        var deadline = DateTime.UtcNow + (timeout ?? Generous);
        // One rising sequence per client across calls: SRTP's replay window drops a sequence number that goes back.
        var counter = Sequences.GetValue(client, _ => new StrongBox<int>(Random.Shared.Next(0, 30000)));
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                var seq = (ushort)Interlocked.Increment(ref counter.Value);
                client.SendRtp(buffer.AsSpan(0, WriteRtp(buffer, audioPt, seq, client.AudioSsrc, tagBytes)));
                if (await Task.WhenAny(back.Task, Task.Delay(50)) == back.Task) return true;
            }
            return back.Task.IsCompleted;
        }
        finally
        {
            client.RtpReceivedHandler = null;
        }
    }

    private static int WriteRtp(byte[] buffer, byte payloadType, ushort seq, uint ssrc, byte[] payload)
    {
        var writer = new RtpHeaderWriter(buffer, payloadType, seq, (uint)(960 * seq), ssrc, marker: false, csrcs: default);
        var header = writer.Finish();
        payload.CopyTo(buffer, header);
        return header + payload.Length;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or <paramref name="timeout"/> passes (false).</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Generous);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(100);
        }
        return condition();
    }

    /// <summary>A loopback port free right now (bound to port 0 and released).</summary>
    public static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The value of the first <c>a=<paramref name="attribute"/>:</c> line of an SDP.</summary>
    public static string SdpAttribute(string sdp, string attribute) =>
        sdp.Split('\n').Select(l => l.TrimEnd('\r')).First(l => l.StartsWith($"a={attribute}:", StringComparison.Ordinal))[(attribute.Length + 3)..];
}
