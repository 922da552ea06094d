using Microsoft.Extensions.DependencyInjection;
using TeleRehab.LoadTests;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Signaling.Hubs;
using TeleRehab.Signaling.Sessions;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>C# room clients share real sockets, a media worker and a small machine: one class at a time, after the
/// parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RoomClientCollection
{
    public const string Name = "room-client";
}

/// <summary>The real app with C# participants: sessions made through the operator API, participants joining with
/// their links' tokens over the session hub, synthetic media through the SFU.</summary>
internal sealed class RoomTestKit : IAsyncDisposable
{
    public const string ApiKey = "test-operator-key";

    /// <summary>Generous bound for anything that should happen "soon" on a loaded two-core machine.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>The app's join-token key in these tests, so a test can sign tokens of its own (expired, unknown session).</summary>
    public static readonly byte[] SigningKey = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    private static readonly Lazy<DtlsCertificate> SharedCertificate = new(() => DtlsCertificate.Generate());

    private readonly List<SessionClient> _clients = [];
    private readonly ITestOutputHelper? _output;
    private readonly HashSet<MediaWorker> _serverWorkers = [];

    private RoomTestKit(AppHost host, ITestOutputHelper? output)
    {
        Host = host;
        _output = output;
        Api = new SessionApiClient(host, ApiKey);
    }

    public AppHost Host { get; }

    public SessionApiClient Api { get; }

    public ClientWorker ClientWorker { get; } = new();

    public MediaPacer Pacer { get; } = new();

    public DtlsCertificate Certificate => SharedCertificate.Value;

    public RoomManager Rooms => Host.Services.GetRequiredService<RoomManager>();

    public RoomCoordinator Coordinator => Host.Services.GetRequiredService<RoomCoordinator>();

    public JoinTokenService Tokens => Host.Services.GetRequiredService<JoinTokenService>();

    /// <summary>The server's media workers that hosted a room of this test (noted while rooms lived).</summary>
    public IReadOnlyCollection<MediaWorker> ServerWorkers
    {
        get
        {
            NoteWorkers();
            lock (_serverWorkers) return _serverWorkers.ToList();
        }
    }

    public static async Task<RoomTestKit> StartAsync(ITestOutputHelper? output, params (string Key, string Value)[] settings)
    {
        var all = new List<(string, string)>
        {
            ("TeleRehab:OperatorApiKey", ApiKey),
            ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"),
            ("TeleRehab:Tokens:SigningKey", Convert.ToBase64String(SigningKey)),
        };
        all.AddRange(settings);
        return new RoomTestKit(await AppHost.StartAsync([.. all]), output);
    }

    public void NoteWorkers()
    {
        lock (_serverWorkers)
        {
            foreach (var room in Rooms.Rooms) _serverWorkers.Add(room.Worker);
        }
    }

    /// <summary>A new participant (not yet joined).</summary>
    public SessionClient NewClient(string name, SessionClientOptions? options = null)
    {
        var client = new SessionClient(Host.BaseAddress, ClientWorker.Worker, Certificate, (options ?? new SessionClientOptions()) with { Name = name });
        lock (_clients) _clients.Add(client);
        return client;
    }

    /// <summary>Joins with <paramref name="link"/>, waits until media is up and starts sending.</summary>
    public async Task<SessionClient> JoinAsync(string name, string link, SessionClientOptions? options = null)
    {
        var client = NewClient(name, options);
        var result = await client.JoinAsync(SessionClient.TokenFromLink(link)).WaitAsync(Generous);
        Assert.Equal("joined", result.State);
        await client.WaitMediaConnectedAsync(Generous);
        NoteWorkers();
        if (client.Media!.SendMids.Count > 0) client.StartSending(Pacer);
        return client;
    }

    /// <summary>A one-to-one session (no waiting room) with both people in it, each receiving the other's audio and video.</summary>
    public async Task<(string SessionId, SessionClient Therapist, SessionClient Patient)> StartPairAsync(string prefix, SessionClientOptions? options = null)
    {
        var session = await Api.CreateAsync("one-to-one", waitingRoom: false, title: $"{prefix} session");
        var therapist = await JoinAsync($"{prefix}-therapist", session.TherapistLink, options);
        var patient = await JoinAsync($"{prefix}-patient", session.PatientLink!, options);
        await WaitReceivingAsync(therapist, patient.ParticipantId);
        await WaitReceivingAsync(patient, therapist.ParticipantId);
        return (session.Id, therapist, patient);
    }

    /// <summary>Waits until <paramref name="receiver"/> got at least <paramref name="packets"/> audio and video packets from
    /// <paramref name="publisherId"/>.</summary>
    public static async Task WaitReceivingAsync(SessionClient receiver, string publisherId, int packets = 10, bool audio = true, bool video = true)
    {
        var ok = await WaitUntilAsync(() =>
            (!audio || receiver.ReceivedFrom(publisherId, "audio").Packets >= packets) &&
            (!video || receiver.ReceivedFrom(publisherId, "video").Packets >= packets), Generous);
        Assert.True(ok, $"{receiver.Name} did not receive {packets} packets from {publisherId}: audio {receiver.ReceivedFrom(publisherId, "audio").Packets}, " +
            $"video {receiver.ReceivedFrom(publisherId, "video").Packets}; errors: {string.Join("; ", receiver.Errors)}; events: {string.Join(", ", receiver.Events.Select(e => e.Name))}");
    }

    /// <summary>Asserts that <paramref name="receiver"/> keeps receiving from <paramref name="publisherId"/>: both counts
    /// grow by at least <paramref name="more"/> from now.</summary>
    public static async Task AssertKeepsReceivingAsync(SessionClient receiver, string publisherId, string what, int more = 10)
    {
        var audio = receiver.ReceivedFrom(publisherId, "audio").Packets;
        var video = receiver.ReceivedFrom(publisherId, "video").Packets;
        var ok = await WaitUntilAsync(() =>
            receiver.ReceivedFrom(publisherId, "audio").Packets >= audio + more &&
            receiver.ReceivedFrom(publisherId, "video").Packets >= video + more, Generous);
        Assert.True(ok, $"{what}: {receiver.Name} stopped receiving from {publisherId} (audio {audio} -> {receiver.ReceivedFrom(publisherId, "audio").Packets}, " +
            $"video {video} -> {receiver.ReceivedFrom(publisherId, "video").Packets})");
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(50);
        }
        return condition();
    }

    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }

    /// <summary>The states the registry reports for a session's participants (operator API), by id.</summary>
    public async Task<Dictionary<string, string>> RegistryStatesAsync(string sessionId)
    {
        var json = await Api.GetAsync(sessionId);
        return json.GetProperty("participants").EnumerateArray()
            .ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("state").GetString()!);
    }

    public void Log(string message) => _output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");

    public async ValueTask DisposeAsync()
    {
        List<SessionClient> clients;
        lock (_clients) clients = [.. _clients];
        foreach (var client in clients) await client.DisposeAsync();
        await Pacer.DisposeAsync();
        Api.Dispose();
        await Host.DisposeAsync();
        ClientWorker.Dispose();
    }
}
