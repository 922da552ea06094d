using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Bench;

/// <summary>
/// Forwarding one packet to one subscriber, as the SFU and the echo do per receiver: copy the decrypted packet
/// into the subscriber's buffer, rewrite SSRC, sequence number and timestamp in place, SRTP-protect it with the
/// subscriber's context and send it on the shared UDP socket to a loopback address (a real sendto system call).
/// The receiving socket is never read: the kernel drops what overflows, as for any UDP receiver.
/// </summary>
[MemoryDiagnoser]
public class ForwardingBenchmarks
{
    private const int PlainLength = 12 + 1200;

    [Params(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    private readonly byte[] _plain = new byte[PlainLength];
    private readonly byte[] _work = new byte[PlainLength + 64];
    private Socket _sender = null!;
    private Socket _receiver = null!;
    private UdpPacketPath _path = null!;
    private SrtpContext _subscriber = null!;
    private ushort _seq;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        random.NextBytes(_plain);
        _plain[0] = 0x80;
        _plain[1] = 96;
        _receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _path = new UdpPacketPath(_sender, _receiver.LocalEndPoint!.Serialize());
        var key = new byte[Profile.GetMasterKeyLength()];
        var salt = new byte[Profile.GetMasterSaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        _subscriber = SrtpContext.CreateForProtect(Profile, key, salt);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _subscriber.Dispose();
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public bool ForwardToOneSubscriber()
    {
        _plain.AsSpan().CopyTo(_work);
        var packet = _work.AsSpan();
        var seq = ++_seq;
        RtpPacketRewriter.SetSsrc(packet, 0x0BADCAFE);
        RtpPacketRewriter.SetSequenceNumber(packet, seq);
        RtpPacketRewriter.SetTimestamp(packet, (uint)(seq * 3000));
        var length = _subscriber.ProtectRtp(packet, PlainLength);
        return _path.Send(packet[..length]);
    }
}
