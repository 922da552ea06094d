namespace TeleRehab.Media.Tests.Sdp;

/// <summary>Real offers with a data channel, as the peers made them (CRLF-normalised).</summary>
internal static class SdpDataChannelSamples
{
    private static string Crlf(string s) => s.ReplaceLineEndings("\r\n") + "\r\n";

    /// <summary>Chromium 156 (Debian), captured by <c>BrowserDataChannelTests</c>: <c>addTrack</c> of the fake camera and
    /// microphone, then <c>createDataChannel("pose", {ordered: false, maxRetransmits: 0})</c>; <c>createOffer()</c> as it
    /// returned (no candidates yet).</summary>
    public static readonly string Chromium = Crlf("""
        v=0
        o=- 8748455883312884719 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS 20ce9e27-7f38-4d9b-9bc0-ab8d732eb797
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:mnHf
        a=ice-pwd:FdLKz968vz89Eal3qWYHRx7F
        a=ice-options:trickle
        a=fingerprint:sha-256 6D:0D:43:B4:B9:66:A2:61:BF:08:C6:32:2D:F7:7F:A8:F9:C3:39:65:E0:E8:94:9C:CF:52:36:98:9E:B0:42:EA
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:20ce9e27-7f38-4d9b-9bc0-ab8d732eb797 5381ae02-ef82-40cb-b14d-eaead25af99d
        a=rtcp-mux
        a=rtcp-rsize
        a=rtcp-xr:rcvr-rtt=all
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:63 red/48000/2
        a=fmtp:63 111/111
        a=rtpmap:9 G722/8000
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:13 CN/8000
        a=rtpmap:110 telephone-event/48000
        a=rtpmap:126 telephone-event/8000
        a=ssrc:1307337375 cname:XfyNTBz2DDWzfVYr
        a=ssrc:1307337375 msid:20ce9e27-7f38-4d9b-9bc0-ab8d732eb797 5381ae02-ef82-40cb-b14d-eaead25af99d
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:mnHf
        a=ice-pwd:FdLKz968vz89Eal3qWYHRx7F
        a=ice-options:trickle
        a=fingerprint:sha-256 6D:0D:43:B4:B9:66:A2:61:BF:08:C6:32:2D:F7:7F:A8:F9:C3:39:65:E0:E8:94:9C:CF:52:36:98:9E:B0:42:EA
        a=setup:actpass
        a=mid:1
        a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:13 urn:3gpp:video-orientation
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
        a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
        a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=sendrecv
        a=msid:20ce9e27-7f38-4d9b-9bc0-ab8d732eb797 d53656a4-7b88-4d1c-ab56-feebc487b4ff
        a=rtcp-mux
        a=rtcp-rsize
        a=rtcp-xr:rcvr-rtt=all
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:102 H264/90000
        a=rtcp-fb:102 goog-remb
        a=rtcp-fb:102 transport-cc
        a=rtcp-fb:102 ccm fir
        a=rtcp-fb:102 nack
        a=rtcp-fb:102 nack pli
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:103 rtx/90000
        a=fmtp:103 apt=102
        a=rtpmap:104 H264/90000
        a=rtcp-fb:104 goog-remb
        a=rtcp-fb:104 transport-cc
        a=rtcp-fb:104 ccm fir
        a=rtcp-fb:104 nack
        a=rtcp-fb:104 nack pli
        a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=104
        a=rtpmap:108 H264/90000
        a=rtcp-fb:108 goog-remb
        a=rtcp-fb:108 transport-cc
        a=rtcp-fb:108 ccm fir
        a=rtcp-fb:108 nack
        a=rtcp-fb:108 nack pli
        a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:109 rtx/90000
        a=fmtp:109 apt=108
        a=rtpmap:114 H264/90000
        a=rtcp-fb:114 goog-remb
        a=rtcp-fb:114 transport-cc
        a=rtcp-fb:114 ccm fir
        a=rtcp-fb:114 nack
        a=rtcp-fb:114 nack pli
        a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
        a=rtpmap:115 rtx/90000
        a=fmtp:115 apt=114
        a=rtpmap:116 H264/90000
        a=rtcp-fb:116 goog-remb
        a=rtcp-fb:116 transport-cc
        a=rtcp-fb:116 ccm fir
        a=rtcp-fb:116 nack
        a=rtcp-fb:116 nack pli
        a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
        a=rtpmap:117 rtx/90000
        a=fmtp:117 apt=116
        a=rtpmap:39 H264/90000
        a=rtcp-fb:39 goog-remb
        a=rtcp-fb:39 transport-cc
        a=rtcp-fb:39 ccm fir
        a=rtcp-fb:39 nack
        a=rtcp-fb:39 nack pli
        a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
        a=rtpmap:40 rtx/90000
        a=fmtp:40 apt=39
        a=rtpmap:45 AV1/90000
        a=rtcp-fb:45 goog-remb
        a=rtcp-fb:45 transport-cc
        a=rtcp-fb:45 ccm fir
        a=rtcp-fb:45 nack
        a=rtcp-fb:45 nack pli
        a=fmtp:45 level-idx=5;profile=0;tier=0
        a=rtpmap:46 rtx/90000
        a=fmtp:46 apt=45
        a=rtpmap:98 VP9/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rtpmap:100 VP9/90000
        a=rtcp-fb:100 goog-remb
        a=rtcp-fb:100 transport-cc
        a=rtcp-fb:100 ccm fir
        a=rtcp-fb:100 nack
        a=rtcp-fb:100 nack pli
        a=fmtp:100 profile-id=2
        a=rtpmap:101 rtx/90000
        a=fmtp:101 apt=100
        a=rtpmap:118 red/90000
        a=rtpmap:119 rtx/90000
        a=fmtp:119 apt=118
        a=rtpmap:120 ulpfec/90000
        a=ssrc-group:FID 2834885013 3968734337
        a=ssrc:2834885013 cname:XfyNTBz2DDWzfVYr
        a=ssrc:2834885013 msid:20ce9e27-7f38-4d9b-9bc0-ab8d732eb797 d53656a4-7b88-4d1c-ab56-feebc487b4ff
        a=ssrc:3968734337 cname:XfyNTBz2DDWzfVYr
        a=ssrc:3968734337 msid:20ce9e27-7f38-4d9b-9bc0-ab8d732eb797 d53656a4-7b88-4d1c-ab56-feebc487b4ff
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:mnHf
        a=ice-pwd:FdLKz968vz89Eal3qWYHRx7F
        a=ice-options:trickle
        a=fingerprint:sha-256 6D:0D:43:B4:B9:66:A2:61:BF:08:C6:32:2D:F7:7F:A8:F9:C3:39:65:E0:E8:94:9C:CF:52:36:98:9E:B0:42:EA
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144
        """);

    /// <summary>werift 0.22.9 (a TypeScript WebRTC stack), printed by tests/Support/werift/offer.mjs: audio and video
    /// transceivers (sendrecv) and a data channel; the candidates' addresses are documentation ones (RFC 5737, RFC 3849).</summary>
    public static readonly string Werift = Crlf("""
        v=0
        o=- 13037361 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic:WMS *
        m=audio 9 UDP/TLS/RTP/SAVPF 96 0
        c=IN IP4 0.0.0.0
        a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 51632 typ host generation 0 ufrag 7f5b
        a=candidate:9c29a2bc887618212a1623bfa 1 udp 2130706431 2001:db8::2 43642 typ host generation 0 ufrag 7f5b
        a=end-of-candidates
        a=ice-ufrag:7f5b
        a=ice-pwd:5a087254f2b19ed2bf8337
        a=ice-options:trickle
        a=fingerprint:sha-256 E9:DE:BF:1B:79:D4:81:B9:F1:46:51:20:3B:72:06:1F:AB:6A:FB:3C:14:F1:D9:6B:AE:33:2E:A5:B7:52:C6:03
        a=setup:actpass
        a=sendrecv
        a=mid:0
        a=msid:4f2341cf-11b3-4285-9944-ea58eda3df2e 706bcc9f-900c-43f4-a2f5-483d3657f00d
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc:684963066 cname:e115c878-4aa8-43bc-ad20-67ad0bab7a25
        a=rtpmap:96 OPUS/48000/2
        a=rtpmap:0 PCMU/8000
        m=video 9 UDP/TLS/RTP/SAVPF 98
        c=IN IP4 0.0.0.0
        a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 54839 typ host generation 0 ufrag 7f5b
        a=candidate:9c29a2bc887618212a1623bfa 1 udp 2130706431 2001:db8::2 59449 typ host generation 0 ufrag 7f5b
        a=end-of-candidates
        a=ice-ufrag:7f5b
        a=ice-pwd:5a087254f2b19ed2bf8337
        a=ice-options:trickle
        a=fingerprint:sha-256 E9:DE:BF:1B:79:D4:81:B9:F1:46:51:20:3B:72:06:1F:AB:6A:FB:3C:14:F1:D9:6B:AE:33:2E:A5:B7:52:C6:03
        a=setup:actpass
        a=sendrecv
        a=mid:1
        a=msid:8897939a-6e10-44d9-b362-0485a05ae165 cb02accb-2f38-4f86-9f53-46c35bbcc6d9
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc:3685663595 cname:e115c878-4aa8-43bc-ad20-67ad0bab7a25
        a=rtpmap:98 VP8/90000
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=rtcp-fb:98 goog-remb
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 41074 typ host generation 0 ufrag 7f5b
        a=candidate:9c29a2bc887618212a1623bfa 1 udp 2130706431 2001:db8::2 43056 typ host generation 0 ufrag 7f5b
        a=end-of-candidates
        a=ice-ufrag:7f5b
        a=ice-pwd:5a087254f2b19ed2bf8337
        a=ice-options:trickle
        a=fingerprint:sha-256 E9:DE:BF:1B:79:D4:81:B9:F1:46:51:20:3B:72:06:1F:AB:6A:FB:3C:14:F1:D9:6B:AE:33:2E:A5:B7:52:C6:03
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:65536
        """);

    public static TheoryData<string> Names => new() { nameof(Chromium), nameof(Werift) };

    public static string ByName(string name) => name == nameof(Chromium) ? Chromium : Werift;
}
