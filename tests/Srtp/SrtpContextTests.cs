using System.Buffers.Binary;
using CsCheck;
using TeleRehab.Media.Srtp;

namespace TeleRehab.Media.Tests.Srtp;

/// <summary>
/// SRTP context behaviour, run on the default (fastest available) HMAC-SHA1 backend; the derived class below
/// re-runs every test on the IncrementalHash fallback.
/// </summary>
public class SrtpContextTests
{
    /// <summary>HMAC-SHA1 backend of the AES-CM contexts these tests create.</summary>
    private protected virtual HmacSha1Backend HmacBackend => HmacSha1Backend.Auto;

    private SrtpContext Create(SrtpProfile profile, byte[] key, byte[] salt) =>
        SrtpContext.CreateWithHmacBackend(profile, key, salt, HmacBackend);

    public static TheoryData<SrtpProfile> Profiles => new()
    {
        SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AesCm128HmacSha1_32, SrtpProfile.AeadAes128Gcm,
    };

    private (SrtpContext Tx, SrtpContext Rx) Pair(SrtpProfile profile, int seed = 1)
    {
        var random = new Random(seed);
        byte[] key = new byte[profile.GetMasterKeyLength()], salt = new byte[profile.GetMasterSaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        return (Create(profile, key, salt), Create(profile, key, salt));
    }

    /// <summary>Builds an RTP packet (V=2) with the given CSRC count, optional extension and payload.</summary>
    private static byte[] Rtp(ushort seq, uint ssrc, int csrcs, int extensionWords, bool extension, byte[] payload, int spare = 32)
    {
        int header = 12 + 4 * csrcs + (extension ? 4 + 4 * extensionWords : 0);
        byte[] p = new byte[header + payload.Length + spare];
        p[0] = (byte)(0x80 | (extension ? 0x10 : 0) | csrcs);
        p[1] = 111;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), 0xDEADBEEF);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), ssrc);
        for (int i = 0; i < csrcs; i++) BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12 + 4 * i), 0x1000u + (uint)i);
        if (extension)
        {
            int x = 12 + 4 * csrcs;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(x), 0xBEDE);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(x + 2), (ushort)extensionWords);
            for (int i = 0; i < 4 * extensionWords; i++) p[x + 4 + i] = (byte)(0xA0 + i);
        }
        payload.CopyTo(p, header);
        return p;
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void RoundTripWithRandomPayloadsCsrcsAndExtensions(SrtpProfile profile)
    {
        var gen = Gen.Select(Gen.Byte.Array[0, 1400], Gen.Int[0, 15], Gen.Int[0, 8], Gen.Bool, Gen.UShort, Gen.UInt);
        gen.Sample((payload, csrcs, extWords, ext, seq, ssrc) =>
        {
            var (tx, rx) = Pair(profile);
            using (tx)
            using (rx)
            {
                byte[] packet = Rtp(seq, ssrc, csrcs, extWords, ext, payload);
                int length = packet.Length - 32;
                byte[] original = packet[..length];
                int n = tx.ProtectRtp(packet, length);
                Assert.Equal(length + profile.GetRtpAuthTagLength(), n);
                int header = length - payload.Length;
                Assert.Equal(original[..header], packet[..header]); // header (CSRCs, extension) stays in the clear
                if (payload.Length >= 8) Assert.NotEqual(original[header..length], packet[header..length]);
                Assert.True(rx.TryUnprotectRtp(packet, n, out int plain));
                Assert.Equal(length, plain);
                Assert.Equal(original, packet[..plain]);
            }
        }, iter: 150);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void AnySingleBitFlipIsRejected(SrtpProfile profile)
    {
        var (tx, _) = Pair(profile);
        byte[] packet = Rtp(500, 0x11223344, 2, 1, true, new byte[40]);
        int n = tx.ProtectRtp(packet, packet.Length - 32);
        byte[] wire = packet[..n];
        for (int bit = 0; bit < n * 8; bit++)
        {
            var (_, rx) = Pair(profile);
            byte[] copy = (byte[])wire.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(rx.TryUnprotectRtp(copy, copy.Length, out _), $"bit {bit}");
        }
        var (_, ok) = Pair(profile);
        Assert.True(ok.TryUnprotectRtp(wire, wire.Length, out _));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void TruncatedPacketsAreRejected(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        byte[] packet = Rtp(7, 99, 1, 2, true, new byte[100]);
        int n = tx.ProtectRtp(packet, packet.Length - 32);
        for (int len = 0; len < n; len++)
        {
            byte[] copy = packet[..n];
            Assert.False(rx.TryUnprotectRtp(copy, len, out _), $"length {len}");
            Assert.False(rx.TryUnprotectRtcp(copy, len, out _), $"rtcp length {len}");
        }
        Assert.False(rx.TryUnprotectRtp(packet, n + 1000, out _)); // length beyond the buffer
        Assert.False(rx.TryUnprotectRtp(packet, -1, out _));
        Assert.True(rx.TryUnprotectRtp(packet, n, out _));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void RandomInputNeverThrows(SrtpProfile profile)
    {
        var (_, rx) = Pair(profile);
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[-5, 310]).Sample((bytes, length) =>
        {
            byte[] copy = (byte[])bytes.Clone();
            Assert.False(rx.TryUnprotectRtp(copy, length, out _));
            copy = (byte[])bytes.Clone();
            Assert.False(rx.TryUnprotectRtcp(copy, length, out _));
        }, iter: 2000, threads: 1); // one context is used by one thread at a time (SrtpContext remarks)
        var (tx, _) = Pair(profile);
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            byte[] copy = new byte[bytes.Length + 4];
            bytes.CopyTo(copy, 0);
            tx.TryProtectRtp(copy, bytes.Length, out _); // must not throw: false or a valid protect
        }, iter: 500, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void ProtectRequiresRoomForTheTag(SrtpProfile profile)
    {
        var (tx, _) = Pair(profile);
        byte[] packet = Rtp(1, 1, 0, 0, false, new byte[10], spare: 0);
        Assert.False(tx.TryProtectRtp(packet, packet.Length, out _));
        Assert.Throws<ArgumentException>(() => tx.ProtectRtp(packet, packet.Length));
        byte[] notRtp = new byte[40];
        Assert.False(tx.TryProtectRtp(notRtp, 20, out _)); // version 0
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void ReplayIsRejectedAndReorderingWithinTheWindowIsAccepted(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        var wire = new Dictionary<ushort, byte[]>();
        for (ushort seq = 100; seq <= 200; seq++)
        {
            byte[] p = Rtp(seq, 5, 0, 0, false, [(byte)seq, 1, 2, 3]);
            int n = tx.ProtectRtp(p, p.Length - 32);
            wire[seq] = p[..n];
        }
        bool Deliver(ushort seq) { byte[] c = (byte[])wire[seq].Clone(); return rx.TryUnprotectRtp(c, c.Length, out _); }

        Assert.True(Deliver(100));
        Assert.False(Deliver(100));          // replay
        Assert.True(Deliver(180));
        Assert.True(Deliver(150));           // late, 30 behind: inside the window
        Assert.False(Deliver(150));          // replay of the late one
        Assert.True(Deliver(117));           // 63 behind: the oldest slot of the 64-packet window
        Assert.False(Deliver(116));          // 64 behind: too old
        Assert.False(Deliver(180));
        Assert.True(Deliver(200));
        Assert.True(Deliver(181));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void RolloverAcrossSequenceWrapWithReordering(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        const uint ssrc = 0xABCDEF01;
        var wire = new Dictionary<ushort, byte[]>();
        ushort[] sendOrder = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5];
        foreach (ushort seq in sendOrder)
        {
            byte[] p = Rtp(seq, ssrc, 1, 0, false, [(byte)seq, (byte)(seq >> 8), 9, 9, 9, 9, 9, 9]);
            int n = tx.ProtectRtp(p, p.Length - 32);
            wire[seq] = p[..n];
        }
        Assert.True(tx.TryGetSendRoc(ssrc, out uint sendRoc));
        Assert.Equal(1u, sendRoc);

        // A retransmission of a pre-wrap packet after the wrap is still protected with ROC 0.
        byte[] retransmit = Rtp(65529, ssrc, 1, 0, false, [1, 2, 3]);
        int rn = tx.ProtectRtp(retransmit, retransmit.Length - 32);

        bool Deliver(ushort seq, out byte[] plain)
        {
            byte[] c = (byte[])wire[seq].Clone();
            bool ok = rx.TryUnprotectRtp(c, c.Length, out int len);
            plain = c[..len];
            return ok;
        }
        ushort[] receiveOrder = [65530, 65532, 1, 65531, 0, 65535, 3, 65533, 2, 65534, 5, 4];
        foreach (ushort seq in receiveOrder)
        {
            Assert.True(Deliver(seq, out byte[] plain), $"seq {seq}");
            Assert.Equal((byte)seq, plain[16]);
            Assert.Equal((byte)(seq >> 8), plain[17]);
        }
        Assert.True(rx.TryGetReceiveRoc(ssrc, out uint roc));
        Assert.Equal(1u, roc);
        Assert.True(rx.TryUnprotectRtp(retransmit, rn, out _));
        Assert.False(Deliver(65533, out _)); // replay across the wrap
        Assert.False(Deliver(2, out _));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void SecondRolloverAndLargeJumps(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        // Walk the sequence through two full wraps in steps of 20000 (< 2^15, so the estimate can follow).
        ushort seq = 0;
        for (int i = 0; i < 8; i++, seq += 20000)
        {
            byte[] p = Rtp(seq, 77, 0, 0, false, [1, 2, 3, 4]);
            int n = tx.ProtectRtp(p, p.Length - 32);
            Assert.True(rx.TryUnprotectRtp(p, n, out _), $"step {i}");
        }
        Assert.True(rx.TryGetReceiveRoc(77, out uint roc));
        Assert.True(tx.TryGetSendRoc(77, out uint sendRoc));
        Assert.Equal(2u, roc);
        Assert.Equal(sendRoc, roc);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void SeparateStreamsKeepSeparateState(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        byte[] a = Rtp(10, 1, 0, 0, false, [1, 1, 1, 1]);
        byte[] b = Rtp(10, 2, 0, 0, false, [2, 2, 2, 2]);
        int na = tx.ProtectRtp(a, a.Length - 32), nb = tx.ProtectRtp(b, b.Length - 32);
        Assert.True(rx.TryUnprotectRtp(a, na, out _));
        Assert.True(rx.TryUnprotectRtp(b, nb, out _)); // same SEQ, other SSRC: not a replay
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void SrtcpRoundTripIndexAndReplay(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        var gen = Gen.Byte.Array[0, 600];
        uint expectedIndex = 0;
        var packets = new List<byte[]>();
        gen.Sample(body =>
        {
            int length = 8 + (body.Length & ~3);
            byte[] p = new byte[length + tx.MaxOverhead];
            p[0] = 0x81;
            p[1] = 200;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(length / 4 - 1));
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), 0x5EED);
            body.AsSpan(0, length - 8).CopyTo(p.AsSpan(8));
            byte[] original = p[..length];
            int n = tx.ProtectRtcp(p, length);
            Assert.Equal(length + 4 + profile.GetRtcpAuthTagLength(), n);
            int trailer = profile.IsAead() ? n - 4 : length;
            Assert.Equal(0x8000_0000u | expectedIndex, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(trailer)));
            expectedIndex++;
            Assert.Equal(original[..8], p[..8]);
            byte[] wire = p[..n];
            packets.Add((byte[])wire.Clone());
            Assert.True(rx.TryUnprotectRtcp(wire, n, out int plain));
            Assert.Equal(original, wire[..plain]);
        }, iter: 100, threads: 1);

        // Replays are rejected; a packet far enough behind is too old.
        byte[] last = (byte[])packets[^1].Clone();
        Assert.False(rx.TryUnprotectRtcp(last, last.Length, out _));
        byte[] first = (byte[])packets[0].Clone();
        Assert.False(rx.TryUnprotectRtcp(first, first.Length, out _));

        // Reordering within the window (fresh receiver).
        var (_, rx2) = Pair(profile);
        foreach (int i in new[] { 5, 3, 4, 0, 1, 2 })
        {
            byte[] c = (byte[])packets[i].Clone();
            Assert.True(rx2.TryUnprotectRtcp(c, c.Length, out _), $"packet {i}");
        }
        byte[] tampered = (byte[])packets[10].Clone();
        tampered[9] ^= 0x40;
        Assert.False(rx2.TryUnprotectRtcp(tampered, tampered.Length, out _));
    }

    [Fact]
    public void SrtcpIndexWrapsAt31Bits()
    {
        var (tx, _) = Pair(SrtpProfile.AesCm128HmacSha1_80);
        tx.NextSrtcpIndex = 0x7FFF_FFFF;
        byte[] p = new byte[8 + 14];
        p[0] = 0x80;
        p[1] = 201;
        tx.ProtectRtcp(p, 8);
        Assert.Equal(0xFFFF_FFFFu, BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(8)));
        Assert.Equal(0u, tx.NextSrtcpIndex);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void ProtectAndUnprotectDoNotAllocatePerPacket(SrtpProfile profile)
    {
        var (tx, rx) = Pair(profile);
        byte[] plain = Rtp(0, 42, 2, 1, true, new byte[1200]);
        byte[] work = new byte[plain.Length];
        byte[] rtcp = new byte[100];
        rtcp[0] = 0x80;
        rtcp[1] = 200;
        void Once(ushort seq)
        {
            plain.CopyTo(work, 0);
            BinaryPrimitives.WriteUInt16BigEndian(work.AsSpan(2), seq);
            int n = tx.ProtectRtp(work, plain.Length - 32);
            if (!rx.TryUnprotectRtp(work, n, out _)) throw new InvalidOperationException();
            n = tx.ProtectRtcp(rtcp, 60);
            if (!rx.TryUnprotectRtcp(rtcp, n, out _)) throw new InvalidOperationException();
        }
        for (ushort s = 0; s < 100; s++) Once(s);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ushort s = 100; s < 1100; s++) Once(s);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void IntrinsicAndPortableImplementationsInteroperate(SrtpProfile profile)
    {
        var random = new Random(3);
        byte[] key = new byte[profile.GetMasterKeyLength()], salt = new byte[profile.GetMasterSaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        using var fast = Create(profile, key, salt);
        using var portable = SrtpContext.CreatePortable(profile, key, salt);
        using var fastRx = Create(profile, key, salt);
        using var portableRx = SrtpContext.CreatePortable(profile, key, salt);
        uint ssrc = 0;
        Gen.Select(Gen.Byte.Array[0, 2500], Gen.Int[0, 3], Gen.UShort).Sample((payload, csrcs, seq) =>
        {
            ssrc++; // a new stream per sample: random sequence numbers within one stream would be replays/jumps
            byte[] a = Rtp(seq, ssrc, csrcs, 1, true, payload);
            byte[] b = (byte[])a.Clone();
            int length = a.Length - 32;
            int na = fast.ProtectRtp(a, length);
            int nb = portable.ProtectRtp(b, length);
            Assert.Equal(a[..na], b[..nb]);
            Assert.True(portableRx.TryUnprotectRtp(a, na, out _));
            Assert.True(fastRx.TryUnprotectRtp(b, nb, out _));
            Assert.Equal(a[..length], b[..length]);

            byte[] rtcp = new byte[8 + (payload.Length & ~3) + 32];
            rtcp[0] = 0x80;
            rtcp[1] = 201;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(rtcp.AsSpan(4), ssrc);
            payload.AsSpan(0, payload.Length & ~3).CopyTo(rtcp.AsSpan(8));
            byte[] rtcpCopy = (byte[])rtcp.Clone();
            int n = portable.ProtectRtcp(rtcp, rtcp.Length - 32);
            Assert.True(fastRx.TryUnprotectRtcp(rtcp, n, out int plain));
            Assert.Equal(rtcpCopy[..plain], rtcp[..plain]);
        }, iter: 100, threads: 1);
    }
}

/// <summary>Every <see cref="SrtpContextTests"/> test on the IncrementalHash HMAC-SHA1 fallback.</summary>
public sealed class SrtpContextIncrementalHashTests : SrtpContextTests
{
    private protected override HmacSha1Backend HmacBackend => HmacSha1Backend.IncrementalHash;
}
