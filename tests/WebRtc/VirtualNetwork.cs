using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Net;

namespace TeleRehab.Media.Tests.WebRtc;

/// <summary>What one direction of a <see cref="VirtualNetwork"/> does to datagrams. Changeable while a test runs.</summary>
public sealed class LinkConditions
{
    /// <summary>Probability that a datagram is dropped.</summary>
    public double Loss { get; set; }

    /// <summary>Probability that a datagram is delivered twice.</summary>
    public double Duplicate { get; set; }

    /// <summary>Probability that a datagram is held back and delivered after later ones.</summary>
    public double Reorder { get; set; }

    /// <summary>Drops everything (a dead link).</summary>
    public bool Blocked { get; set; }

    /// <summary>Which datagrams <see cref="Loss"/>, <see cref="Duplicate"/> and <see cref="Reorder"/> apply to (all when null).</summary>
    public Func<byte[], bool>? Applies { get; set; }

    /// <summary>Rewrites a datagram (already a private copy) in transit; return false to drop it.</summary>
    public Func<byte[], bool>? Transform { get; set; }
}

/// <summary>One endpoint of a <see cref="VirtualNetwork"/>: a fake transport address and its inbox.</summary>
public sealed class VirtualEndpoint
{
    internal VirtualEndpoint(string name, IPEndPoint endPoint)
    {
        Name = name;
        EndPoint = endPoint;
        Address = endPoint.Serialize();
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    public SocketAddress Address { get; }

    internal List<byte[]> Inbox { get; } = [];

    internal List<(byte[] Datagram, int Releases)> Held { get; } = [];

    public override string ToString() => $"{Name}({EndPoint})";
}

/// <summary>A UDP path over the <see cref="VirtualNetwork"/>: sending copies the datagram into the other side's inbox.
/// The addresses are labels only; no socket is involved.</summary>
public sealed class VirtualPath : IUdpPacketPath
{
    private readonly VirtualNetwork _network;

    internal VirtualPath(VirtualNetwork network, VirtualEndpoint from, VirtualEndpoint to)
    {
        _network = network;
        From = from;
        To = to;
    }

    public VirtualEndpoint From { get; }

    public VirtualEndpoint To { get; }

    public IPEndPoint Remote => To.EndPoint;

    public SocketAddress Address => To.Address;

    public bool IsTcp => false;

    public bool Send(ReadOnlySpan<byte> datagram)
    {
        _network.Transmit(this, datagram);
        return true;
    }

    public override string ToString() => $"virtual:{From.Name}->{To.Name}";
}

/// <summary>
/// An in-memory two-party UDP network for driving sans-I/O peers without sockets. <see cref="VirtualPath.Send"/> is
/// thread-safe (the DTLS handshake sends from its own thread); the test's loop takes datagrams with
/// <see cref="TakeInbox"/>. Loss, duplication and reordering come from one seeded <see cref="Random"/>.
/// </summary>
public sealed class VirtualNetwork
{
    private readonly object _lock = new();
    private readonly Random _random;

    public VirtualNetwork(int seed)
    {
        _random = new Random(seed);
        Server = new VirtualEndpoint("server", new IPEndPoint(IPAddress.Parse("10.0.0.1"), 5000));
        Client = new VirtualEndpoint("client", new IPEndPoint(IPAddress.Parse("10.0.0.2"), 6000));
        ServerToClient = new VirtualPath(this, Server, Client);
        ClientToServer = new VirtualPath(this, Client, Server);
    }

    public VirtualEndpoint Server { get; }

    public VirtualEndpoint Client { get; }

    /// <summary>The server's path back to the client (what the server receives the client's datagrams on).</summary>
    public VirtualPath ServerToClient { get; }

    /// <summary>The client's path to the server.</summary>
    public VirtualPath ClientToServer { get; }

    public LinkConditions ClientToServerLink { get; } = new();

    public LinkConditions ServerToClientLink { get; } = new();

    public int Sent { get; private set; }

    public int Dropped { get; private set; }

    /// <summary>Every datagram that was put on the wire, as sent (before loss or tampering), in order.</summary>
    public List<(string From, byte[] Datagram)> Log { get; } = [];

    /// <summary>Puts a datagram straight into <paramref name="to"/>'s inbox, bypassing link conditions (injection).</summary>
    public void Inject(VirtualEndpoint to, ReadOnlySpan<byte> datagram)
    {
        lock (_lock) to.Inbox.Add(datagram.ToArray());
    }

    internal void Transmit(VirtualPath path, ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        var link = ReferenceEquals(path, ClientToServer) ? ClientToServerLink : ServerToClientLink;
        lock (_lock)
        {
            Sent++;
            Log.Add((path.From.Name, datagram.ToArray()));
            var impaired = link.Applies?.Invoke(copy) ?? true;
            if (link.Blocked || (impaired && link.Loss > 0 && _random.NextDouble() < link.Loss))
            {
                Dropped++;
                return;
            }
            if (link.Transform is { } transform && !transform(copy))
            {
                Dropped++;
                return;
            }
            var inbox = path.To;
            if (impaired && link.Reorder > 0 && _random.NextDouble() < link.Reorder)
            {
                // Delivered after one to three later deliveries (or pump rounds) to this endpoint.
                inbox.Held.Add((copy, _random.Next(1, 4)));
                return;
            }
            inbox.Inbox.Add(copy);
            if (impaired && link.Duplicate > 0 && _random.NextDouble() < link.Duplicate) inbox.Inbox.Add(copy.ToArray());
        }
    }

    /// <summary>Takes what is waiting for <paramref name="endpoint"/>; held-back (reordered) datagrams come out a
    /// few rounds later, behind newer ones.</summary>
    public List<byte[]> TakeInbox(VirtualEndpoint endpoint)
    {
        lock (_lock)
        {
            var taken = new List<byte[]>(endpoint.Inbox);
            endpoint.Inbox.Clear();
            for (var i = 0; i < endpoint.Held.Count; i++)
            {
                var (datagram, releases) = endpoint.Held[i];
                if (releases <= 1)
                {
                    taken.Add(datagram);
                    endpoint.Held.RemoveAt(i--);
                }
                else
                {
                    endpoint.Held[i] = (datagram, releases - 1);
                }
            }
            return taken;
        }
    }
}
