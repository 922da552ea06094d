using System.Buffers.Binary;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Net;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Echo;

/// <summary>One connection-check peer: every RTP stream the browser sends comes straight back to it on the same
/// m-section, under the server's own SSRC (the browser must not see its own SSRC come back). Keyframe requests and
/// NACKs the browser sends about the echoed streams are relayed to the browser's sender, so video recovers as it
/// would through the SFU. Runs on one media worker; the per-packet path rewrites in place and allocates nothing.</summary>
public sealed class EchoSession : IMediaPeer, IPeerConnectionHandler, IDataChannelHandler
{
    /// <summary>The label of the channel the echo opens from the server side once the association is up; its first
    /// message is <see cref="ServerChannelGreeting"/>. Messages on it are echoed like on any other channel.</summary>
    public const string ServerChannelLabel = "echo-server";

    public const string ServerChannelGreeting = "hello from the echo";

    private const int MaxLearnedSsrcs = 32;

    private readonly MediaServer _server;
    private readonly Action<EchoSession> _onClosed;
    private readonly Dictionary<uint, uint> _outboundSsrc = [];
    private readonly Dictionary<uint, uint> _inboundSsrc = [];
    private readonly Dictionary<string, (uint Primary, uint Rtx, IReadOnlySet<int> RtxPayloadTypes)> _byMid = new(StringComparer.Ordinal);
    private readonly int _midExtensionId;
    private readonly TimeSpan _deadline;
    private readonly byte[] _rtcpScratch = new byte[1500];
    private PeerConnection _connection = null!;
    private long _packetsEchoed;
    private long _dataChannelEchoFailures;

    internal EchoSession(MediaServer server, string localUfrag, NegotiatedSession session, TimeSpan deadline, Action<EchoSession> onClosed)
    {
        _server = server;
        LocalUfrag = localUfrag;
        _deadline = deadline;
        _onClosed = onClosed;
        var midExtension = -1;
        foreach (var media in session.Media)
        {
            if (media.IsRejected || media.LocalStream is not { } local) continue;
            var rtxTypes = media.RtxPayloadTypes.Keys.ToHashSet();
            _byMid[media.Mid] = (local.Ssrc, local.RtxSsrc ?? local.Ssrc, rtxTypes);
            if (media.FindExtensionId(SdpHeaderExtensionCapability.Mid) is { } id) midExtension = id;

            // SSRCs the offer announced: the FID group's second SSRC is the retransmission stream (RFC 4588 §8).
            var rtxRemote = media.RemoteSsrcGroups.Where(g => g.Semantics == "FID" && g.Ssrcs.Count == 2).Select(g => g.Ssrcs[1]).ToHashSet();
            foreach (var remote in media.RemoteSsrcIds)
            {
                Map(remote, rtxRemote.Contains(remote) ? local.RtxSsrc ?? local.Ssrc : local.Ssrc);
            }
        }
        _midExtensionId = midExtension;
    }

    internal void Attach(PeerConnection connection) => _connection = connection;

    public string LocalUfrag { get; }

    public PeerConnection Connection => _connection;

    /// <summary>The SCTP side of the peer's data channel, when its offer had one.</summary>
    public DataChannelTransport? DataChannels => _connection.DataChannels;

    public bool IsAuthenticCheck(ReadOnlySpan<byte> request) => _connection is { } connection && connection.IsAuthenticCheck(request);

    /// <summary>RTP packets sent back so far.</summary>
    public long PacketsEchoed => Interlocked.Read(ref _packetsEchoed);

    public bool IsClosed => _connection.State is PeerConnectionState.Closed or PeerConnectionState.Failed;

    public TimeSpan? NextTimeout => _connection.NextTimeout is { } next && next < _deadline ? next : _deadline;

    public void HandleDatagram(Span<byte> buffer, int length, IPacketPath path, TimeSpan now) =>
        _connection.HandleDatagram(buffer, length, path, now);

    public void HandleTimeout(TimeSpan now)
    {
        if (now >= _deadline)
        {
            _connection.Close("echo time limit reached");
            return;
        }
        _connection.HandleTimeout(now);
    }

    public void Close(string reason) => _connection.Close(reason);

    /// <summary>Data channel messages that could not be echoed (send buffer full, or the channel went away).</summary>
    public long DataChannelEchoFailures => Interlocked.Read(ref _dataChannelEchoFailures);

    void IDataChannelHandler.OnConnected(DataChannelTransport transport) => transport.OpenChannel(ServerChannelLabel);

    void IDataChannelHandler.OnChannelOpened(DataChannelTransport transport, Sctp.DataChannel channel)
    {
        if (channel.IsLocallyOpened && channel.Label == ServerChannelLabel)
            transport.Send(channel.StreamId, System.Text.Encoding.UTF8.GetBytes(ServerChannelGreeting), isText: true);
    }

    /// <summary>Every data channel message goes back on the same channel, text as text and binary as binary.</summary>
    void IDataChannelHandler.OnMessage(DataChannelTransport transport, Sctp.DataChannel channel, ReadOnlySpan<byte> data, bool isText)
    {
        if (transport.Send(channel.StreamId, data, isText) != DataChannelSendResult.Sent) Interlocked.Increment(ref _dataChannelEchoFailures);
    }

    void IDataChannelHandler.OnChannelClosed(DataChannelTransport transport, Sctp.DataChannel channel)
    {
    }

    public void Dispose() => _connection.Dispose();

    void IPeerConnectionHandler.OnPathSelected(PeerConnection connection, IPacketPath path) => _server.BindPath(this, path);

    void IPeerConnectionHandler.OnConnected(PeerConnection connection)
    {
    }

    void IPeerConnectionHandler.OnRtp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        if (!RtpPacketReader.TryParse(buffer[..length], out var rtp)) return;
        if (!_outboundSsrc.TryGetValue(rtp.Ssrc, out var outbound))
        {
            if (!TryLearnSsrc(rtp, out outbound)) return;
        }
        RtpPacketRewriter.SetSsrc(buffer, outbound);
        if (connection.SendRtp(buffer, length)) Interlocked.Increment(ref _packetsEchoed);
    }

    /// <summary>A stream the offer did not announce (e.g. rid-based simulcast): find its m-section by the MID header
    /// extension (RFC 8843 §15) and give it the server's SSRC of that m-section.</summary>
    private bool TryLearnSsrc(in RtpPacketReader rtp, out uint outbound)
    {
        outbound = 0;
        if (_midExtensionId < 0 || !rtp.TryGetExtension(_midExtensionId, out var midBytes) || midBytes.Length > 32) return false;
        Span<char> mid = stackalloc char[midBytes.Length];
        for (var i = 0; i < midBytes.Length; i++) mid[i] = (char)midBytes[i];
        if (_outboundSsrc.Count >= MaxLearnedSsrcs) return false;
        foreach (var (key, streams) in _byMid)
        {
            if (!mid.SequenceEqual(key)) continue;
            outbound = streams.RtxPayloadTypes.Contains(rtp.PayloadType) ? streams.Rtx : streams.Primary;
            Map(rtp.Ssrc, outbound);
            return true;
        }
        return false;
    }

    private void Map(uint inbound, uint outbound)
    {
        _outboundSsrc[inbound] = outbound;
        _inboundSsrc[outbound] = inbound;
    }

    /// <summary>Relays the browser's feedback about the echoed streams (NACK, PLI, FIR, transport-wide CC: RFC 4585
    /// §6, RFC 5104 §4.3.1) to its own sender, with the SSRCs mapped back. Reports (SR, RR, SDES, BYE) and REMB end here.</summary>
    void IPeerConnectionHandler.OnRtcp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now)
    {
        var output = _rtcpScratch.AsSpan(0, _rtcpScratch.Length - connection.MaxSrtpOverhead);
        var written = 0;
        foreach (var packet in new RtcpCompoundReader(buffer[..length]))
        {
            var type = packet.PacketType;
            if (type is not (RtcpPacketType.TransportFeedback or RtcpPacketType.PayloadSpecificFeedback)) continue;
            if (type == RtcpPacketType.PayloadSpecificFeedback && packet.Format == 15) continue; // REMB (application layer FB)
            var source = packet.Packet;
            if (source.Length < 12 || written + source.Length > output.Length) continue;
            var target = output.Slice(written, source.Length);
            source.CopyTo(target);

            var mediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(target[8..]);
            var mapped = false;
            if (_inboundSsrc.TryGetValue(mediaSsrc, out var original))
            {
                BinaryPrimitives.WriteUInt32BigEndian(target[4..], mediaSsrc); // from the echoed stream's side
                BinaryPrimitives.WriteUInt32BigEndian(target[8..], original);
                mapped = true;
            }
            if (type == RtcpPacketType.PayloadSpecificFeedback && packet.Format == 4)
            {
                // FIR: the SSRCs are in the FCI entries (RFC 5104 §4.3.1.1), 8 bytes each.
                for (var offset = 12; offset + 8 <= target.Length; offset += 8)
                {
                    var fciSsrc = BinaryPrimitives.ReadUInt32BigEndian(target[offset..]);
                    if (_inboundSsrc.TryGetValue(fciSsrc, out var fciOriginal))
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(target[offset..], fciOriginal);
                        mapped = true;
                    }
                }
            }
            if (mapped) written += source.Length;
        }
        if (written > 0) connection.SendRtcp(_rtcpScratch, written);
    }

    void IPeerConnectionHandler.OnClosed(PeerConnection connection, string reason) => _onClosed(this);
}
