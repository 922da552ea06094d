using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Tests.Stun;

public class StunMessageTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes(Rfc5769Vectors.Password);

    [Fact]
    public void Rfc5769_SampleRequest_ParsesAndVerifies()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Vectors.Request, out var m));
        Assert.Equal(StunMessageType.BindingRequest, m.MessageType);
        Assert.Equal(Rfc5769Vectors.TransactionId, m.TransactionIdBytes.ToArray());
        Assert.True(m.TryGetAttribute(StunAttributeType.Software, out var software));
        Assert.Equal("STUN test client", Encoding.UTF8.GetString(software));
        Assert.True(m.TryGetPriority(out uint priority));
        Assert.Equal(0x6e0001ffu, priority);
        Assert.True(m.TryGetIceControlled(out ulong tie));
        Assert.Equal(0x932ff9b151263b36ul, tie);
        Assert.False(m.TryGetIceControlling(out _));
        Assert.True(m.TryGetUsername(out var username));
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(username));
        Assert.True(m.HasMessageIntegrity);
        Assert.True(m.HasFingerprint);
        Assert.True(StunMessage.VerifyMessageIntegrity(Rfc5769Vectors.Request, Key));
        Assert.True(StunMessage.VerifyFingerprint(Rfc5769Vectors.Request));
        Assert.False(StunMessage.VerifyMessageIntegrity(Rfc5769Vectors.Request, "wrong"u8));
    }

    [Fact]
    public void Rfc5769_SampleRequest_RebuildsIdenticalBytes()
    {
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.PaddingByte = 0x20; // the RFC pads with spaces
        w.AddSoftware("STUN test client"u8);
        w.AddPriority(0x6e0001ff);
        w.AddIceControlled(0x932ff9b151263b36);
        w.AddUsername("evtj:h6vY"u8);
        int length = w.Complete(Key);
        Assert.Equal(Rfc5769Vectors.Request, buffer[..length]);
    }

    [Fact]
    public void Rfc5769_Ipv4Response_ParsesVerifiesAndRebuilds()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Vectors.Ipv4Response, out var m));
        Assert.Equal(StunMessageType.BindingSuccess, m.MessageType);
        Assert.True(m.TryGetXorMappedAddress(out IPEndPoint? ep));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), ep);
        Assert.True(StunMessage.VerifyMessageIntegrity(m, Key));
        Assert.True(StunMessage.VerifyFingerprint(m));

        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccess, Rfc5769Vectors.TransactionId) { PaddingByte = 0x20 };
        w.AddSoftware("test vector"u8);
        w.AddXorMappedAddress(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853));
        int length = w.Complete(Key);
        Assert.Equal(Rfc5769Vectors.Ipv4Response, buffer[..length]);
    }

    [Fact]
    public void Rfc5769_Ipv6Response_ParsesVerifiesAndRebuilds()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Vectors.Ipv6Response, out var m));
        Assert.Equal(StunMessageType.BindingSuccess, m.MessageType);
        var expected = new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        Assert.True(m.TryGetXorMappedAddress(out IPEndPoint? ep));
        Assert.Equal(expected, ep);
        Assert.True(StunMessage.VerifyMessageIntegrity(m, Key));
        Assert.True(StunMessage.VerifyFingerprint(m));

        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccess, Rfc5769Vectors.TransactionId) { PaddingByte = 0x20 };
        w.AddSoftware("test vector"u8);
        w.AddXorMappedAddress(expected.Serialize()); // SocketAddress overload
        int length = w.Complete(Key);
        Assert.Equal(Rfc5769Vectors.Ipv6Response, buffer[..length]);
    }

    [Fact]
    public void Rfc5769_LongTermRequest_ParsesAndVerifiesWithMd5Key()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Vectors.LongTermRequest, out var m));
        Assert.Equal(StunMessageType.BindingRequest, m.MessageType);
        Assert.True(m.TryGetUsername(out var user));
        Assert.Equal("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", Encoding.UTF8.GetString(user));
        Assert.True(m.TryGetAttribute(StunAttributeType.Nonce, out var nonce));
        Assert.Equal("f//499k954d6OL34oL9FSTvy64sA", Encoding.ASCII.GetString(nonce));
        Assert.True(m.TryGetAttribute(StunAttributeType.Realm, out var realm));
        Assert.Equal("example.org", Encoding.ASCII.GetString(realm));
        Assert.False(m.HasFingerprint);
        Assert.False(StunMessage.VerifyFingerprint(m));
        // RFC 8489 §9.2.2: key = MD5(username ":" realm ":" password).
        byte[] key = MD5.HashData(Encoding.UTF8.GetBytes("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9:example.org:TheMatrIX"));
        Assert.True(StunMessage.VerifyMessageIntegrity(m, key));
    }

    [Fact]
    public void ReusableIntegrityKeyMatchesTheOneShotPathOnAllVectors()
    {
        using var key = new StunIntegrityKey(Key);
        foreach (var vector in new[] { Rfc5769Vectors.Request, Rfc5769Vectors.Ipv4Response, Rfc5769Vectors.Ipv6Response })
        {
            Assert.True(StunMessage.TryParse(vector, out var m));
            Assert.True(StunMessage.VerifyMessageIntegrity(m, key));
            Assert.True(StunMessage.VerifyMessageIntegrity(m, key)); // reusable
        }
        using var wrong = new StunIntegrityKey("wrong"u8);
        Assert.True(StunMessage.TryParse(Rfc5769Vectors.Request, out var r));
        Assert.False(StunMessage.VerifyMessageIntegrity(r, wrong));

        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId) { PaddingByte = 0x20 };
        w.AddSoftware("STUN test client"u8);
        w.AddPriority(0x6e0001ff);
        w.AddIceControlled(0x932ff9b151263b36);
        w.AddUsername("evtj:h6vY"u8);
        Assert.Equal(Rfc5769Vectors.Request, buffer[..w.Complete(key)]);
    }

    [Fact]
    public void EveryTruncationOfAValidMessageIsRejected()
    {
        foreach (var vector in new[] { Rfc5769Vectors.Request, Rfc5769Vectors.Ipv4Response, Rfc5769Vectors.Ipv6Response, Rfc5769Vectors.LongTermRequest })
        {
            for (int n = 0; n < vector.Length; n++)
            {
                Assert.False(StunMessage.TryParse(vector.AsSpan(0, n), out _), $"prefix {n}");
                Assert.False(StunMessage.VerifyMessageIntegrity(vector.AsSpan(0, n), Key));
                Assert.False(StunMessage.VerifyFingerprint(vector.AsSpan(0, n)));
                Assert.False(StunMessage.TryGetLocalUfrag(vector.AsSpan(0, n), out _));
            }
        }
    }

    [Fact]
    public void AnySingleBitFlipBreaksParsingIntegrityOrFingerprint()
    {
        byte[] copy = (byte[])Rfc5769Vectors.Request.Clone();
        for (int i = 0; i < copy.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                copy[i] ^= (byte)(1 << bit);
                bool ok = StunMessage.TryParse(copy, out var m)
                    && StunMessage.VerifyMessageIntegrity(m, Key) && StunMessage.VerifyFingerprint(m);
                Assert.False(ok, $"byte {i} bit {bit}");
                copy[i] ^= (byte)(1 << bit);
            }
        }
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            Exercise(bytes);
        }, iter: 20_000);
    }

    [Fact]
    public void RandomAttributesAfterAValidHeaderNeverThrow()
    {
        // Random attribute regions behind a header whose length matches, so the attribute walk is exercised.
        Gen.Byte.Array[0, 120].Select(b => b.Length % 4 == 0 ? b : b[..(b.Length & ~3)]).Sample(body =>
        {
            var message = new byte[20 + body.Length];
            Rfc5769Vectors.Request.AsSpan(0, 20).CopyTo(message);
            message[2] = (byte)(body.Length >> 8);
            message[3] = (byte)body.Length;
            body.CopyTo(message, 20);
            Exercise(message);
        }, iter: 20_000);
    }

    private static void Exercise(byte[] bytes)
    {
        if (StunMessage.TryParse(bytes, out var m))
        {
            _ = m.MessageType;
            _ = m.TransactionId;
            foreach (var a in m) _ = a.Value.Length;
            m.TryGetUsername(out _);
            m.TryGetPriority(out _);
            m.TryGetIceControlling(out _);
            m.TryGetIceControlled(out _);
            m.TryGetErrorCode(out _, out _);
            m.TryGetXorMappedAddress(out IPEndPoint? _);
            _ = m.HasUseCandidate;
        }
        StunMessage.VerifyMessageIntegrity(bytes, Key);
        StunMessage.VerifyFingerprint(bytes);
        StunMessage.TryGetLocalUfrag(bytes, out _);
    }

    [Fact]
    public void RoundTripsIceAttributesAndErrorCode()
    {
        var tid = StunTransactionId.NewRandom();
        var buffer = new byte[300];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingError, tid);
        w.AddUsername("abcd:efgh"u8);
        w.AddPriority(1862270975);
        w.AddIceControlling(0x0123456789ABCDEF);
        w.AddUseCandidate();
        w.AddErrorCode(StunErrorCodes.RoleConflict);
        w.AddXorMappedAddress(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000)); // mapped -> written as IPv4
        int length = w.Complete("secretpassword"u8);

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var m));
        Assert.Equal(StunMessageType.BindingError, m.MessageType);
        Assert.Equal(tid, m.TransactionId);
        Assert.True(m.TryGetPriority(out uint p));
        Assert.Equal(1862270975u, p);
        Assert.True(m.TryGetIceControlling(out ulong t));
        Assert.Equal(0x0123456789ABCDEFul, t);
        Assert.True(m.HasUseCandidate);
        Assert.True(m.TryGetErrorCode(out int code, out var reason));
        Assert.Equal(487, code);
        Assert.Equal("Role Conflict", Encoding.UTF8.GetString(reason));
        Assert.True(m.TryGetXorMappedAddress(out IPEndPoint? ep));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 5000), ep);
        Assert.True(StunMessage.VerifyMessageIntegrity(m, "secretpassword"u8));
        Assert.True(StunMessage.VerifyFingerprint(m));
        Assert.True(StunMessage.TryGetLocalUfrag(buffer.AsSpan(0, length), out var ufrag));
        Assert.Equal("abcd", Encoding.ASCII.GetString(ufrag));
    }

    [Theory]
    [InlineData(StunClass.Request, 0x0001)]
    [InlineData(StunClass.Indication, 0x0011)]
    [InlineData(StunClass.SuccessResponse, 0x0101)]
    [InlineData(StunClass.ErrorResponse, 0x0111)]
    public void MessageTypeEncodingMatchesRfc8489(StunClass cls, int wire)
    {
        var type = new StunMessageType(StunMethod.Binding, cls);
        Assert.Equal(wire, type.Value);
        Assert.Equal(type, StunMessageType.FromValue((ushort)wire));
        // All 12 method bits and 2 class bits survive a round trip.
        var all = new StunMessageType((StunMethod)0xFFF, StunClass.ErrorResponse);
        Assert.Equal(0x3FFF, all.Value);
        Assert.Equal(all, StunMessageType.FromValue(0x3FFF));
    }

    [Fact]
    public void FingerprintMustBeLastAndFixedLengthsAreEnforced()
    {
        var buffer = new byte[100];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        w.AddFingerprint();
        w.AddUsername("a:b"u8);
        Assert.False(StunMessage.TryParse(buffer.AsSpan(0, w.Length), out _));

        w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        w.AddAttribute(StunAttributeType.MessageIntegrity, new byte[16]);
        Assert.False(StunMessage.TryParse(buffer.AsSpan(0, w.Length), out _));
    }

    [Fact]
    public void AttributesAfterMessageIntegrityAreIgnored()
    {
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        w.AddUsername("a:b"u8);
        w.AddMessageIntegrity("key"u8);
        w.AddPriority(5);
        w.AddFingerprint();
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, w.Length), out var m));
        Assert.False(m.TryGetPriority(out _));
        Assert.True(StunMessage.VerifyMessageIntegrity(m, "key"u8));
        Assert.True(StunMessage.VerifyFingerprint(m));
    }

    [Fact]
    public void MessageWithoutMagicCookieOrWithTrailingBytesIsRejected()
    {
        byte[] copy = (byte[])Rfc5769Vectors.Request.Clone();
        copy[4] ^= 1;
        Assert.False(StunMessage.TryParse(copy, out _));
        byte[] longer = [.. Rfc5769Vectors.Request, 0, 0, 0, 0];
        Assert.False(StunMessage.TryParse(longer, out _));
    }

    [Fact]
    public void Crc32MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute(ReadOnlySpan<byte>.Empty));
        // Both the slicing and the byte-wise tail paths.
        byte[] data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        uint reference = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            reference ^= b;
            for (int k = 0; k < 8; k++) reference = (reference & 1) != 0 ? 0xEDB88320 ^ (reference >> 1) : reference >> 1;
        }
        Assert.Equal(~reference, Crc32.Compute(data));
    }

    [Fact]
    public void VerificationAndBuildingDoNotAllocate()
    {
        byte[] request = Rfc5769Vectors.Request;
        var buffer = new byte[200];
        var remote = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853).Serialize();
        bool Run()
        {
            bool ok = StunMessage.TryParse(request, out var m)
                && StunMessage.VerifyMessageIntegrity(m, Key) && StunMessage.VerifyFingerprint(m)
                && StunMessage.TryGetLocalUfrag(request, out _);
            var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccess, m.TransactionIdBytes);
            w.AddXorMappedAddress(remote);
            w.Complete(Key);
            return ok;
        }
        Assert.True(Run());
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void SocketAddressHelperUnmapsIPv4MappedAddresses()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.7"), 4000).Serialize();
        var plain = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 4000).Serialize();
        Assert.Equal(AddressFamily.InterNetworkV6, mapped.Family);
        Assert.True(SocketAddressHelper.AddressEquals(mapped, plain));
        Span<byte> a = stackalloc byte[16];
        Assert.True(SocketAddressHelper.TryGetAddress(mapped, a, out int len, out ushort port));
        Assert.Equal(4, len);
        Assert.Equal(4000, port);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 4000), SocketAddressHelper.ToEndPoint(plain));
        Assert.False(SocketAddressHelper.AddressEquals(plain, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 4001).Serialize()));
    }
}
