using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// A WebRTC stack we did not write (aiortc, werift, libwebrtc for node) as a participant in a room. The stack runs as a
/// child process (a "participant" script in tests/Support/aiortc, werift or wrtc; the node ones serve this class's
/// messages with tests/Support/participant-bridge.mjs) and does the media: its offers, its
/// answers' application, ICE, DTLS, SRTP, its encoders and decoders. This class does the signalling for it on the
/// session hub, as docs/signalling.md says a client does: it joins with the link's token and relays each offer the
/// stack makes (with the recvonly sections it added for the room's tracks) to <c>Negotiate</c> and the answer back, again
/// on every <c>TracksChanged</c>.
/// <para>The script and this class speak one JSON object a line on the script's stdin and stdout:
/// to the script <c>{"type":"offer","tracks":[{trackId,kind}]}</c> (make an offer that receives these tracks),
/// <c>{"type":"answer","sdp"}</c> and <c>{"type":"stop"}</c> (stop, judge what was decoded, print the result, exit);
/// from the script <c>{"type":"offer","sdp","subscriptions":[{mid,trackId}]}</c>, <c>{"type":"answered"}</c>,
/// <c>{"type":"state","connectionState"}</c>, <c>{"type":"log","text"}</c> and, last, <c>{"type":"result",...}</c>.</para>
/// </summary>
public sealed class ExternalParticipant : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HubConnection _hub;
    private readonly ITestOutputHelper _output;
    private readonly string _name;
    private readonly SemaphoreSlim _negotiating = new(1, 1);
    private readonly Channel _fromScript = new();
    private readonly Task _reading;
    private readonly TaskCompletionSource<JsonObject> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringWriter _stderr = new();
    private volatile string _connectionState = "new";
    private IReadOnlyList<TrackInfoDto> _tracks = [];

    private ExternalParticipant(string name, Process process, HubConnection hub, ITestOutputHelper output)
    {
        _name = name;
        _process = process;
        _hub = hub;
        _output = output;
        _reading = Task.Run(ReadScriptAsync);
        // Line by line, so a failure dump during the run shows what the script said so far.
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr) _stderr.WriteLine(line);
            }
        });
    }

    public JoinResultDto JoinResult { get; private set; } = null!;

    public string ParticipantId => JoinResult.ParticipantId;

    /// <summary>The script's peer connection state as it last reported it.</summary>
    public string ConnectionState => _connectionState;

    /// <summary>Answers received for offers the script made, so far.</summary>
    public int Negotiations { get; private set; }

    /// <summary>For the offer the script made while its transport connected (see <see cref="JoinAsync"/>'s
    /// <c>offerAgainWhileConnecting</c>): its connection and DTLS states when it made the offer, and its DTLS state when
    /// the offer was relayed; null otherwise.</summary>
    public (string Connection, string Dtls, string DtlsWhenRelayed)? OfferedAgain { get; private set; }

    /// <summary>Starts <paramref name="program"/> <paramref name="script"/> in tests/Support/<paramref name="folder"/>, joins
    /// the session with <paramref name="link"/> on the hub and negotiates the stack's first offer. With
    /// <paramref name="offerAgainWhileConnecting"/> (aiortc's script only) the stack makes its next offer as soon as it
    /// has applied the first answer, and that offer is relayed only once the stack's DTLS transport has connected: its
    /// transport connects while an offer of a renegotiation is out.</summary>
    public static async Task<ExternalParticipant> JoinAsync(AppHost host, string name, string program, string folder, string marker,
        string script, string link, ITestOutputHelper output, bool offerAgainWhileConnecting = false)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = ExternalPeer.Directory(folder, marker),
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add(script);
        var process = Process.Start(start)!;
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(host.BaseAddress, HubNames.Path), HttpTransportType.WebSockets)
            .AddJsonProtocol(json =>
            {
                json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
                json.PayloadSerializerOptions.PropertyNameCaseInsensitive = true;
            })
            .Build();
        var participant = new ExternalParticipant(name, process, hub, output);
        hub.On<List<TrackInfoDto>>(HubNames.TracksChanged, tracks => _ = participant.NegotiateAsync(tracks));
        await hub.StartAsync();
        participant.JoinResult = await hub.InvokeAsync<JoinResultDto>(HubNames.Join, SessionClient.TokenFromLink(link));
        if (participant.JoinResult.State != "joined") throw new InvalidOperationException($"{name} is {participant.JoinResult.State}, not joined");
        await participant.NegotiateAsync(participant.JoinResult.Tracks, offerAgainWhileConnecting);
        return participant;
    }

    /// <summary>Lets the script make an offer receiving the other participants' <paramref name="tracks"/>, and relays it
    /// and the answer; one negotiation at a time, the latest track list wins. With <paramref name="offerAgainWhileConnecting"/>
    /// the script makes the next offer right after applying the answer, relayed once its DTLS transport has connected.</summary>
    private async Task NegotiateAsync(IReadOnlyList<TrackInfoDto> tracks, bool offerAgainWhileConnecting = false)
    {
        _tracks = tracks;
        await _negotiating.WaitAsync();
        try
        {
            await SendAsync(new JsonObject { ["type"] = "offer", ["tracks"] = WantedTracks() });
            var offer = await _fromScript.ReadAsync("offer", TimeSpan.FromSeconds(30));
            var answer = new JsonObject { ["type"] = "answer", ["sdp"] = await RelayOfferAsync(offer) };
            if (offerAgainWhileConnecting) answer["thenOffer"] = WantedTracks();
            await SendAsync(answer);
            await _fromScript.ReadAsync("answered", TimeSpan.FromSeconds(30));
            Negotiations++;
            if (!offerAgainWhileConnecting) return;

            // The script says this offer once its DTLS transport has connected.
            var again = await _fromScript.ReadAsync("offer", TimeSpan.FromSeconds(40));
            OfferedAgain = (again["made"]!["connectionState"]!.GetValue<string>(), again["made"]!["dtlsState"]!.GetValue<string>(),
                again["dtlsState"]!.GetValue<string>());
            await SendAsync(new JsonObject { ["type"] = "answer", ["sdp"] = await RelayOfferAsync(again) });
            await _fromScript.ReadAsync("answered", TimeSpan.FromSeconds(30));
            Negotiations++;
        }
        catch (Exception error)
        {
            _output.WriteLine($"[{_name}] negotiation failed: {error.Message}");
            throw;
        }
        finally
        {
            _negotiating.Release();
        }
    }

    private JsonArray WantedTracks() =>
        new(_tracks.Where(t => t.ParticipantId != JoinResult.ParticipantId)
            .Select(t => (JsonNode)new JsonObject { ["trackId"] = t.TrackId, ["kind"] = t.Kind }).ToArray());

    /// <summary>Relays an offer of the script to <c>Negotiate</c> with its subscriptions; returns the answer's SDP.</summary>
    private async Task<string> RelayOfferAsync(JsonObject offer)
    {
        var subscriptions = offer["subscriptions"]!.AsArray()
            .Select(s => new SubscriptionRequestDto(s!["mid"]!.GetValue<string>(), s["trackId"]!.GetValue<string>())).ToList();
        var answer = await _hub.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate, new NegotiateRequestDto(offer["sdp"]!.GetValue<string>(), subscriptions));
        return answer.Sdp;
    }

    /// <summary>Waits until the script says its peer connection is connected.</summary>
    public async Task WaitConnectedAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_connectionState != "connected")
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{_name} is {_connectionState} after {timeout.TotalSeconds:0} s; stderr: {Stderr()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Tells the script to stop and returns what it judged it decoded.</summary>
    public async Task<JsonObject> StopAsync(TimeSpan timeout)
    {
        await SendAsync(new JsonObject { ["type"] = "stop" });
        var result = await _result.Task.WaitAsync(timeout);
        _output.WriteLine($"[{_name}] {result.ToJsonString()}");
        return result;
    }

    /// <summary>What the script says of its own media (aiortc's participant.py answers <c>{"type":"stats"}</c>: each
    /// sender's packets and whether it still runs, the DTLS state, the ICE pair), for a failure dump; null when the
    /// script does not answer within <paramref name="timeout"/>.</summary>
    public async Task<JsonObject?> TryGetStatsAsync(TimeSpan timeout)
    {
        try
        {
            await SendAsync(new JsonObject { ["type"] = "stats" });
            return await _fromScript.ReadAsync("stats", timeout);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    public string Stderr()
    {
        lock (_stderr) return _stderr.ToString() is { Length: > 4000 } s ? s[..4000] : _stderr.ToString();
    }

    private async Task SendAsync(JsonObject message)
    {
        await _process.StandardInput.WriteLineAsync(message.ToJsonString());
        await _process.StandardInput.FlushAsync();
    }

    private async Task ReadScriptAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith('{')) continue;
            JsonObject message;
            try
            {
                message = JsonNode.Parse(line)!.AsObject();
            }
            catch (JsonException)
            {
                continue;
            }
            switch (message["type"]?.GetValue<string>())
            {
                case "state":
                    _connectionState = message["connectionState"]!.GetValue<string>();
                    _output.WriteLine($"[{_name}] {_connectionState}");
                    break;
                case "log":
                    _output.WriteLine($"[{_name}] {message["text"]}");
                    break;
                case "result":
                    _result.TrySetResult(message);
                    break;
                default:
                    _fromScript.Write(message);
                    break;
            }
        }
        _result.TrySetException(new InvalidOperationException($"{_name} exited without a result; stderr: {Stderr()}"));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _hub.DisposeAsync();
        }
        finally
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
            await _reading;
        }
    }

    /// <summary>Messages from the script, taken by their type in the order they came.</summary>
    private sealed class Channel
    {
        private readonly List<JsonObject> _messages = [];
        private readonly SemaphoreSlim _arrived = new(0);

        public void Write(JsonObject message)
        {
            lock (_messages) _messages.Add(message);
            _arrived.Release();
        }

        public async Task<JsonObject> ReadAsync(string type, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                lock (_messages)
                {
                    var index = _messages.FindIndex(m => m["type"]?.GetValue<string>() == type);
                    if (index >= 0)
                    {
                        var message = _messages[index];
                        _messages.RemoveAt(index);
                        return message;
                    }
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left)) throw new TimeoutException($"no '{type}' from the script");
            }
        }
    }
}
