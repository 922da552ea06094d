using System.Collections.Concurrent;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Sfu;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Rooms;

/// <summary>The rooms of this media node. A room is pinned to the least loaded worker when it is made.</summary>
public sealed class RoomManager
{
    private readonly ConcurrentDictionary<string, MediaRoom> _rooms = new(StringComparer.Ordinal);

    /// <summary>The default of <see cref="MaxMediaSections"/>: a full group room (13 people) whose participants each
    /// publish two tracks needs 26 m-lines in an offer; a patient at the default role limits (5 tracks) with twelve others
    /// publishing two each needs 29.</summary>
    public const int DefaultMaxMediaSections = 64;

    /// <param name="retransmissionMemory">The budget for publications' retransmission buffers
    /// (<see cref="Rooms.RetransmissionMemory.CreateDefault"/> when null).</param>
    /// <param name="maxMediaSections">The most m-lines an offer may have (see <see cref="MaxMediaSections"/>).</param>
    public RoomManager(MediaServer server, DtlsCertificate certificate, RetransmissionMemory? retransmissionMemory = null,
        int maxMediaSections = DefaultMaxMediaSections)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMediaSections);
        Server = server;
        RetransmissionMemory = retransmissionMemory ?? RetransmissionMemory.CreateDefault();
        MaxMediaSections = maxMediaSections;
        PeerOptions = new PeerConnectionOptions
        {
            Certificate = certificate,
            ConsentTimeout = TimeSpan.FromSeconds(server.Options.ConsentTimeoutSeconds),
            DataChannelStats = server.DataChannels,
        };
    }

    public MediaServer Server { get; }

    /// <summary>The server-wide budget every publication's retransmission buffers are reserved from
    /// (<see cref="RetransmissionMemory.ReservedBytes"/> is the metric).</summary>
    public RetransmissionMemory RetransmissionMemory { get; }

    /// <summary>How rooms forward pose keypoints (rate caps, buffering); read when a room is made.</summary>
    public PoseForwarderOptions PoseOptions { get; init; } = new();

    /// <summary>The weak-link ladder's thresholds and times for the uplinks of participants who send their movement. A
    /// participant's ladder takes them when it first negotiates.</summary>
    public UplinkModeOptions UplinkMode { get; set; } = new();

    /// <summary>The most m-lines (of any kind, rejected ones included) one offer may have; a larger offer is refused
    /// before anything of it is answered or applied.</summary>
    public int MaxMediaSections { get; }

    internal PeerConnectionOptions PeerOptions { get; }

    public int RoomCount => _rooms.Count;

    public IEnumerable<MediaRoom> Rooms => _rooms.Values;

    /// <summary>The open room with this id, or a new one. Never a room whose <see cref="MediaRoom.CloseAsync"/> was
    /// called: it leaves the map when closing starts, and one seen in the moment between is replaced here.</summary>
    public MediaRoom GetOrCreate(string roomId, IRoomListener listener)
    {
        while (true)
        {
            var room = _rooms.GetOrAdd(roomId, id => new MediaRoom(this, id, Server.PickWorker(), listener));
            if (!room.IsClosing) return room;
            _rooms.TryRemove(new KeyValuePair<string, MediaRoom>(roomId, room));
        }
    }

    public bool TryGet(string roomId, out MediaRoom room) => _rooms.TryGetValue(roomId, out room!);

    internal void Forget(MediaRoom room) => _rooms.TryRemove(new KeyValuePair<string, MediaRoom>(room.Id, room));
}
