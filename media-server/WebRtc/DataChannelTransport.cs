using TeleRehab.Media.Sctp;
using TeleRehab.Media.Sdp;

namespace TeleRehab.Media.WebRtc;

/// <summary>What the SDP agreed for a peer's data channel section (RFC 8841).</summary>
/// <param name="Mid">The section's mid.</param>
/// <param name="LocalPort">Our a=sctp-port: the destination port of SCTP packets we accept.</param>
/// <param name="RemotePort">The peer's a=sctp-port: the source port of SCTP packets we accept.</param>
/// <param name="LocalMaxMessageSize">The largest message we accept (0: no limit).</param>
/// <param name="RemoteMaxMessageSize">The largest message the peer accepts (0: no limit; 65536 when it said nothing).</param>
public sealed record DataChannelParameters(string Mid, ushort LocalPort, ushort RemotePort, long LocalMaxMessageSize, long RemoteMaxMessageSize)
{
    /// <summary>The parameters of the session's accepted data channel section, or null when it has none.</summary>
    public static DataChannelParameters? FromSession(NegotiatedSession session)
    {
        if (session.DataChannel is not { } media) return null;
        return new DataChannelParameters(media.Mid,
            (ushort)(media.LocalSctpPort ?? SdpDataChannel.DefaultSctpPort),
            (ushort)(media.SctpPort ?? SdpDataChannel.DefaultSctpPort),
            media.LocalMaxMessageSize ?? SdpLocalParameters.DefaultMaxMessageSize,
            media.MaxMessageSize ?? SdpDataChannel.DefaultMaxMessageSize);
    }
}

/// <summary>Why an inbound DTLS application record was not taken as an SCTP packet.</summary>
public enum DataChannelDrop
{
    None,
    /// <summary>Not an SCTP packet: shorter than a common header and one chunk, or chunks that do not parse (RFC 9260 §3).</summary>
    Malformed,
    /// <summary>The CRC32c checksum is wrong (RFC 9260 §6.8: discarded silently).</summary>
    BadChecksum,
    /// <summary>Source or destination port is not the one the SDP negotiated (RFC 8841 §5).</summary>
    WrongPort,
}

/// <summary>
/// The SCTP side of one peer's data channels (SCTP over DTLS, RFC 8261): every DTLS application record of the peer
/// comes here, and every SCTP packet for the peer leaves from here as one DTLS application record.
/// <para>Threading: the owning <see cref="PeerConnection"/> calls every member on its loop (the peer's media worker),
/// so nothing here locks or allocates per packet. Counters may be read from any thread.</para>
/// <para>Flow:</para>
/// <list type="bullet">
/// <item>Inbound: <see cref="PeerConnection"/> → <see cref="HandlePacket"/> with each decrypted DTLS application record
/// (one record is one SCTP packet, RFC 8261 §5), from <c>HandleDatagram</c> on the worker. Records that arrive before
/// the handshake result reached the worker are delivered after it (<see cref="Dtls.DtlsSession.DeferEarlyApplicationData"/>).</item>
/// <item>Outbound: <see cref="SendPacket"/> → the DTLS session's <c>Send</c> (one record per packet), once
/// <see cref="Start"/> gave the way out.</item>
/// <item>Timers: <see cref="NextTimeout"/> is part of the peer's <c>NextTimeout</c>; the worker's
/// <c>HandleTimeout(now)</c> reaches <see cref="HandleTimeout"/> through the peer connection.</item>
/// </list>
/// <para><b>Where the association plugs in</b> (the one seam, marked <c>SEAM</c> below): make the sans-I/O
/// <c>SctpAssociation</c> in <see cref="Start"/> (its MTU is <see cref="MaxPacketSize"/>, its ports
/// <see cref="Parameters"/>), feed it valid packets in <see cref="HandlePacket"/> (<c>HandlePacket(packet, now)</c>),
/// run <c>HandleTimeout(now)</c> in <see cref="HandleTimeout"/> and return its <c>NextTimeout</c> from
/// <see cref="NextTimeout"/>, then after each of these calls <c>Flush</c>: drain <c>TryPollTransmit</c> into
/// <see cref="SendPacket"/> and <c>TryPollEvent</c> into the DCEP endpoint. Nothing outside this class changes.</para>
/// <para>Until then every inbound record is checked as an SCTP packet (common header, chunk layout, CRC32c, the
/// negotiated ports) and counted; bad ones are dropped. Garbage never throws and never disturbs the peer's media.</para>
/// </summary>
public sealed class DataChannelTransport
{
    /// <summary>How many first-chunk types <see cref="RecentChunkTypes"/> keeps.</summary>
    public const int RecentCapacity = 16;

    private readonly byte[] _recentChunkTypes = new byte[RecentCapacity];
    private Func<ReadOnlySpan<byte>, bool>? _send;
    private long _packetsReceived;
    private long _packetsDropped;
    private long _malformed;
    private long _badChecksum;
    private long _wrongPort;
    private long _packetsSent;
    private long _recentCount;
    private int _lastDrop;

    public DataChannelTransport(DataChannelParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
    }

    public DataChannelParameters Parameters { get; }

    /// <summary>True once DTLS is up and <see cref="SendPacket"/> can send.</summary>
    public bool IsStarted => _send is not null;

    /// <summary>The largest SCTP packet that fits one DTLS record on this path (0 before <see cref="Start"/>).</summary>
    public int MaxPacketSize { get; private set; }

    /// <summary>Valid SCTP packets received (right layout, checksum and ports).</summary>
    public long PacketsReceived => Interlocked.Read(ref _packetsReceived);

    /// <summary>Application records dropped as not a valid SCTP packet for this association (sum of the three below).</summary>
    public long PacketsDropped => Interlocked.Read(ref _packetsDropped);

    public long MalformedPackets => Interlocked.Read(ref _malformed);

    public long BadChecksumPackets => Interlocked.Read(ref _badChecksum);

    public long WrongPortPackets => Interlocked.Read(ref _wrongPort);

    /// <summary>SCTP packets handed to DTLS.</summary>
    public long PacketsSent => Interlocked.Read(ref _packetsSent);

    /// <summary>Why the latest dropped record was dropped.</summary>
    public DataChannelDrop LastDrop => (DataChannelDrop)Volatile.Read(ref _lastDrop);

    /// <summary>The type of the first chunk of each of the latest valid packets received (at most
    /// <see cref="RecentCapacity"/>, oldest first; 1 is INIT, RFC 9260 §3.2). A snapshot for tests and diagnostics:
    /// exact on the worker, possibly mid-update elsewhere.</summary>
    public byte[] RecentChunkTypes()
    {
        var count = Interlocked.Read(ref _recentCount);
        var n = (int)Math.Min(count, RecentCapacity);
        var result = new byte[n];
        for (var i = 0; i < n; i++) result[i] = _recentChunkTypes[(int)((count - n + i) % RecentCapacity)];
        return result;
    }

    /// <summary>When <see cref="HandleTimeout"/> must next run; null without a timer.</summary>
    public TimeSpan? NextTimeout => null; // SEAM: _association?.NextTimeout

    /// <summary>DTLS is up: <paramref name="send"/> sends one SCTP packet as one DTLS application record (false when it
    /// could not), and <paramref name="maxPacketSize"/> is the largest record DTLS takes. Called once, on the worker.</summary>
    public void Start(Func<ReadOnlySpan<byte>, bool> send, int maxPacketSize, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (_send is not null) return;
        MaxPacketSize = maxPacketSize;
        _send = send;
        // SEAM: _association = new SctpAssociation(new SctpAssociationOptions { LocalPort = Parameters.LocalPort,
        //       RemotePort = Parameters.RemotePort, Mtu = maxPacketSize, ... }); _association.Connect(now); Flush(now);
    }

    /// <summary>One decrypted DTLS application record of the peer (RFC 8261 §5: one SCTP packet). Checked, counted, and
    /// dropped when it is not a valid packet of this association. Never throws.</summary>
    public void HandlePacket(ReadOnlySpan<byte> record, TimeSpan now)
    {
        var drop = Check(record, Parameters);
        if (drop != DataChannelDrop.None)
        {
            Count(drop);
            return;
        }
        Interlocked.Increment(ref _packetsReceived);
        _recentChunkTypes[(int)(_recentCount % RecentCapacity)] = record[SctpPacket.CommonHeaderSize];
        Interlocked.Increment(ref _recentCount);
        // SEAM: _association.HandlePacket(record, now); Flush(now);
    }

    /// <summary>The peer's timer is due (see <see cref="NextTimeout"/>).</summary>
    public void HandleTimeout(TimeSpan now)
    {
        // SEAM: _association.HandleTimeout(now); Flush(now);
    }

    /// <summary>Sends one SCTP packet to the peer as one DTLS application record. False before <see cref="Start"/>,
    /// when it is larger than <see cref="MaxPacketSize"/>, or when DTLS could not send it.</summary>
    public bool SendPacket(ReadOnlySpan<byte> packet)
    {
        if (_send is not { } send || packet.Length > MaxPacketSize || !send(packet)) return false;
        Interlocked.Increment(ref _packetsSent);
        return true;
    }

    /// <summary>Whether <paramref name="record"/> is an SCTP packet this association accepts: a common header and
    /// well-formed chunks (RFC 9260 §3), a right CRC32c (§6.8) and the negotiated ports (RFC 8841 §5).</summary>
    public static DataChannelDrop Check(ReadOnlySpan<byte> record, DataChannelParameters parameters)
    {
        if (!SctpPacket.TryParse(record, out var packet)) return DataChannelDrop.Malformed;
        if (!SctpPacket.HasValidChecksum(record)) return DataChannelDrop.BadChecksum;
        if (packet.DestinationPort != parameters.LocalPort || packet.SourcePort != parameters.RemotePort) return DataChannelDrop.WrongPort;
        return DataChannelDrop.None;
    }

    private void Count(DataChannelDrop drop)
    {
        Interlocked.Increment(ref _packetsDropped);
        switch (drop)
        {
            case DataChannelDrop.Malformed: Interlocked.Increment(ref _malformed); break;
            case DataChannelDrop.BadChecksum: Interlocked.Increment(ref _badChecksum); break;
            default: Interlocked.Increment(ref _wrongPort); break;
        }
        Volatile.Write(ref _lastDrop, (int)drop);
    }
}
