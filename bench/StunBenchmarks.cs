using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Bench;

/// <summary>
/// The ICE lite server's per-check work: parse + verify a typical browser Binding request, and build the
/// success response (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT).
/// </summary>
[MemoryDiagnoser]
public class StunBenchmarks
{
    private readonly byte[] _request = new byte[256];
    private readonly byte[] _response = new byte[1500];
    private int _requestLength;
    private byte[] _key = [];
    private StunIntegrityKey _reusableKey = null!;
    private SocketAddress _remote = null!;
    private IceLiteAgent _agent = null!;

    [GlobalSetup]
    public void Setup()
    {
        var local = new IceCredentials("Xy7k", "q3Lm9ZtR2vB8nW4pK6sD1fGh");
        _key = local.PasswordBytes.ToArray();
        _reusableKey = new StunIntegrityKey(_key);
        _remote = new IPEndPoint(IPAddress.Parse("192.168.1.23"), 54321).Serialize();
        _agent = new IceLiteAgent(local, new IceCredentials("aB3d", "browserPassword0123456789"));

        // Chrome-like request: USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING, USE-CANDIDATE, PRIORITY, MI, FP (108 bytes).
        var w = new StunMessageWriter(_request, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        w.AddUsername("Xy7k:aB3d"u8);
        w.AddAttribute((StunAttributeType)0xC057, [0x00, 0x01, 0x00, 0x0A]);
        w.AddIceControlling(0x1122334455667788);
        w.AddUseCandidate();
        w.AddPriority(1853824767);
        _requestLength = w.Complete(_key);
    }

    [Benchmark]
    public bool ParseAndVerifyRequest()
    {
        ReadOnlySpan<byte> request = _request.AsSpan(0, _requestLength);
        return StunMessage.TryParse(request, out var m)
            && m.TryGetUsername(out _)
            && StunMessage.VerifyMessageIntegrity(m, _key)
            && StunMessage.VerifyFingerprint(m);
    }

    [Benchmark]
    public bool ParseAndVerifyRequestReusableKey()
    {
        ReadOnlySpan<byte> request = _request.AsSpan(0, _requestLength);
        return StunMessage.TryParse(request, out var m)
            && m.TryGetUsername(out _)
            && StunMessage.VerifyMessageIntegrity(m, _reusableKey)
            && StunMessage.VerifyFingerprint(m);
    }

    [Benchmark]
    public int BuildSuccessResponse()
    {
        var w = new StunMessageWriter(_response, StunMessageType.BindingSuccess, _request.AsSpan(8, 12));
        w.AddXorMappedAddress(_remote);
        return w.Complete(_key);
    }

    [Benchmark]
    public int BuildSuccessResponseReusableKey()
    {
        var w = new StunMessageWriter(_response, StunMessageType.BindingSuccess, _request.AsSpan(8, 12));
        w.AddXorMappedAddress(_remote);
        return w.Complete(_reusableKey);
    }

    [Benchmark]
    public int LiteAgentHandleCheck() =>
        _agent.HandleBindingRequest(_request.AsSpan(0, _requestLength), _remote, TimeSpan.FromSeconds(1), _response).ResponseLength;
}
