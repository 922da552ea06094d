using System.Net;
using System.Text;
using TeleRehab.Media.Stun;

namespace TeleRehab.Media.Tests.Ice;

internal static class IceTestUtil
{
    public static readonly IPEndPoint ClientEndPoint = new(IPAddress.Parse("10.0.0.2"), 50000);
    public static readonly IPEndPoint ServerEndPoint = new(IPAddress.Parse("10.0.0.1"), 3478);

    /// <summary>A browser-like Binding request (Chrome sends roughly these attributes).</summary>
    public static byte[] BuildRequest(
        string? username,
        string? password,
        bool fingerprint = true,
        bool useCandidate = false,
        bool controlling = true,
        bool controlled = false,
        StunTransactionId? id = null)
    {
        var buffer = new byte[512];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, id ?? StunTransactionId.NewRandom());
        if (username is not null) w.AddUsername(Encoding.UTF8.GetBytes(username));
        w.AddAttribute((StunAttributeType)0xC057, [0x00, 0x01, 0x00, 0x0A]); // GOOG-NETWORK-INFO
        if (controlling) w.AddIceControlling(0x1122334455667788);
        if (controlled) w.AddIceControlled(0x1122334455667788);
        if (useCandidate) w.AddUseCandidate();
        w.AddPriority(1853824767);
        if (password is not null) w.AddMessageIntegrity(Encoding.UTF8.GetBytes(password));
        if (fingerprint) w.AddFingerprint();
        return buffer[..w.Length];
    }
}
