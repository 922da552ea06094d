using System.Collections.Concurrent;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Rooms;

/// <summary>The rooms of this media node. A room is pinned to the least loaded worker when it is made.</summary>
public sealed class RoomManager
{
    private readonly ConcurrentDictionary<string, MediaRoom> _rooms = new(StringComparer.Ordinal);

    public RoomManager(MediaServer server, DtlsCertificate certificate)
    {
        Server = server;
        PeerOptions = new PeerConnectionOptions
        {
            Certificate = certificate,
            ConsentTimeout = TimeSpan.FromSeconds(server.Options.ConsentTimeoutSeconds),
        };
    }

    public MediaServer Server { get; }

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
