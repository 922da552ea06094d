using TeleRehab.Media.Ice;
using TeleRehab.Media.Net;

namespace TeleRehab.Media.WebRtc;

/// <summary>What a <see cref="PeerConnection"/> reports, called on the owner's loop.</summary>
public interface IPeerConnectionHandler
{
    /// <summary>ICE selected (or switched) the path media goes on.</summary>
    void OnPathSelected(PeerConnection connection, IPacketPath path);

    /// <summary>DTLS finished and SRTP is keyed: media may flow.</summary>
    void OnConnected(PeerConnection connection);

    /// <summary>A decrypted RTP packet in <paramref name="buffer"/>[..<paramref name="length"/>]. The buffer may be rewritten
    /// in place and passed to <see cref="PeerConnection.SendRtp"/> (it has room for the SRTP tag); it is reused after
    /// this returns, so keep nothing of it.</summary>
    void OnRtp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now);

    /// <summary>A decrypted RTCP compound packet; the same buffer rules as <see cref="OnRtp"/>.</summary>
    void OnRtcp(PeerConnection connection, Span<byte> buffer, int length, TimeSpan now);

    /// <summary>The first valid check with the credentials of an ICE restart came (<see cref="PeerConnection.RestartIce"/>):
    /// from now on checks with <paramref name="retired"/> (the local credentials before the restart) are refused, so a
    /// host that finds peers by their ufrag forgets its ufrag.</summary>
    void OnIceCredentialsRetired(PeerConnection connection, IceCredentials retired) { }

    /// <summary>The connection closed or failed; called once.</summary>
    void OnClosed(PeerConnection connection, string reason);
}
