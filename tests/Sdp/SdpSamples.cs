namespace TeleRehab.Media.Tests.Sdp;

/// <summary>Realistic browser/peer offers (CRLF-normalised) used by the SDP tests.</summary>
internal static class SdpSamples
{
    private static string Crlf(string s) => s.ReplaceLineEndings("\r\n") + "\r\n";

    public const string ChromeFingerprint = "sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E";

    /// <summary>Chromium unified-plan offer: audio + video (VP8, several H264 profiles, VP9, red/ulpfec) + data channel.</summary>
    public static readonly string Chrome = Crlf("""
        v=0
        o=- 4215775240449105457 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS 7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:Xk3n
        a=ice-pwd:8Yq1s0F1Jc2eQe0zY8f9fZ7h
        a=ice-options:trickle
        a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8 0f5c1a2b-1111-4222-8333-444455556666
        a=rtcp-mux
        a=rtcp-rsize
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
        a=ssrc:3735928559 cname:Yq4cXo3RkTGtJxVb
        a=ssrc:3735928559 msid:7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8 0f5c1a2b-1111-4222-8333-444455556666
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 98 99 112 113 116 117 118
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:Xk3n
        a=ice-pwd:8Yq1s0F1Jc2eQe0zY8f9fZ7h
        a=ice-options:trickle
        a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E
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
        a=msid:7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8 9a8b7c6d-2222-4333-8444-555566667777
        a=rtcp-mux
        a=rtcp-rsize
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
        a=rtpmap:105 rtx/90000
        a=fmtp:105 apt=104
        a=rtpmap:106 H264/90000
        a=rtcp-fb:106 goog-remb
        a=rtcp-fb:106 transport-cc
        a=rtcp-fb:106 ccm fir
        a=rtcp-fb:106 nack
        a=rtcp-fb:106 nack pli
        a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=106
        a=rtpmap:108 H264/90000
        a=rtcp-fb:108 goog-remb
        a=rtcp-fb:108 transport-cc
        a=rtcp-fb:108 ccm fir
        a=rtcp-fb:108 nack
        a=rtcp-fb:108 nack pli
        a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
        a=rtpmap:109 rtx/90000
        a=fmtp:109 apt=108
        a=rtpmap:127 H264/90000
        a=rtcp-fb:127 goog-remb
        a=rtcp-fb:127 transport-cc
        a=rtcp-fb:127 ccm fir
        a=rtcp-fb:127 nack
        a=rtcp-fb:127 nack pli
        a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
        a=rtpmap:125 rtx/90000
        a=fmtp:125 apt=127
        a=rtpmap:98 VP9/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rtpmap:112 H264/90000
        a=rtcp-fb:112 goog-remb
        a=rtcp-fb:112 transport-cc
        a=rtcp-fb:112 ccm fir
        a=rtcp-fb:112 nack
        a=rtcp-fb:112 nack pli
        a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f
        a=rtpmap:113 rtx/90000
        a=fmtp:113 apt=112
        a=rtpmap:116 red/90000
        a=rtpmap:117 rtx/90000
        a=fmtp:117 apt=116
        a=rtpmap:118 ulpfec/90000
        a=ssrc-group:FID 2541098696 3215547008
        a=ssrc:2541098696 cname:Yq4cXo3RkTGtJxVb
        a=ssrc:2541098696 msid:7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8 9a8b7c6d-2222-4333-8444-555566667777
        a=ssrc:3215547008 cname:Yq4cXo3RkTGtJxVb
        a=ssrc:3215547008 msid:7b2c1d3e-5f60-4a71-8b92-a3b4c5d6e7f8 9a8b7c6d-2222-4333-8444-555566667777
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:Xk3n
        a=ice-pwd:8Yq1s0F1Jc2eQe0zY8f9fZ7h
        a=ice-options:trickle
        a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144
        """);

    /// <summary>Chromium offer sending three rid-based simulcast layers (a=rid:h/m/l send, a=simulcast:send h;m;l).</summary>
    public static readonly string ChromeSimulcast = Crlf("""
        v=0
        o=- 8157302916493837217 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=extmap-allow-mixed
        a=msid-semantic: WMS 5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:sIm1
        a=ice-pwd:Q2w3e4r5t6y7u8i9o0p1a2s3
        a=ice-options:trickle
        a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendrecv
        a=msid:5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f 11111111-2222-4333-8444-555555555555
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=rtpmap:63 red/48000/2
        a=fmtp:63 111/111
        a=rtpmap:0 PCMU/8000
        a=ssrc:1001 cname:simCname
        a=ssrc:1001 msid:5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f 11111111-2222-4333-8444-555555555555
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:sIm1
        a=ice-pwd:Q2w3e4r5t6y7u8i9o0p1a2s3
        a=ice-options:trickle
        a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9
        a=setup:actpass
        a=mid:1
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
        a=sendonly
        a=msid:5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f 66666666-7777-4888-8999-aaaaaaaaaaaa
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:106 H264/90000
        a=rtcp-fb:106 goog-remb
        a=rtcp-fb:106 transport-cc
        a=rtcp-fb:106 ccm fir
        a=rtcp-fb:106 nack
        a=rtcp-fb:106 nack pli
        a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:107 rtx/90000
        a=fmtp:107 apt=106
        a=rid:h send
        a=rid:m send
        a=rid:l send
        a=simulcast:send h;m;l
        """);

    /// <summary>
    /// Chrome offer as our client makes it: audio, then VP8 sent with three rid-based simulcast encodings via
    /// <c>addTransceiver(track, { direction: "sendonly", sendEncodings: [{ rid: "q", scaleResolutionDownBy: 4 },
    /// { rid: "h", scaleResolutionDownBy: 2 }, { rid: "f" }] })</c>, low to high. Written by hand in Chrome's format:
    /// no a=ssrc lines for the simulcast section, rid and repaired-rid extmaps 10 and 11.
    /// </summary>
    public static readonly string ChromeSimulcastQhf = Crlf("""
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=extmap-allow-mixed
        a=msid-semantic: WMS 0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:qHf7
        a=ice-pwd:Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2
        a=ice-options:trickle
        a=fingerprint:sha-256 3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=sendonly
        a=msid:0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
        a=rtcp-mux
        a=rtcp-rsize
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
        a=ssrc:2718281828 cname:qhfCnameQhfCname
        a=ssrc:2718281828 msid:0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45 46 100 101
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:qHf7
        a=ice-pwd:Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2
        a=ice-options:trickle
        a=fingerprint:sha-256 3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B
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
        a=sendonly
        a=msid:0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e 6f7e8d9c-0b1a-4293-a4b5-c6d7e8f90a1b
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 goog-remb
        a=rtcp-fb:96 transport-cc
        a=rtcp-fb:96 ccm fir
        a=rtcp-fb:96 nack
        a=rtcp-fb:96 nack pli
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:98 VP9/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 profile-id=0
        a=rtpmap:99 rtx/90000
        a=fmtp:99 apt=98
        a=rtpmap:45 AV1/90000
        a=rtcp-fb:45 goog-remb
        a=rtcp-fb:45 transport-cc
        a=rtcp-fb:45 ccm fir
        a=rtcp-fb:45 nack
        a=rtcp-fb:45 nack pli
        a=fmtp:45 level-idx=5;profile=0;tier=0
        a=rtpmap:46 rtx/90000
        a=fmtp:46 apt=45
        a=rtpmap:100 H264/90000
        a=rtcp-fb:100 goog-remb
        a=rtcp-fb:100 transport-cc
        a=rtcp-fb:100 ccm fir
        a=rtcp-fb:100 nack
        a=rtcp-fb:100 nack pli
        a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:101 rtx/90000
        a=fmtp:101 apt=100
        a=rid:q send
        a=rid:h send
        a=rid:f send
        a=simulcast:send q;h;f
        """);

    /// <summary>Firefox offer: session-level fingerprint, per-media ICE credentials, extmap with direction, H264 in both packetization modes.</summary>
    public static readonly string Firefox = Crlf("""
        v=0
        o=mozilla...THIS_IS_SDPARTA-99.0 6286316153318196474 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:sha-256 C3:8B:9F:31:A6:E8:22:41:0D:4B:5E:7F:91:22:B3:C4:D5:E6:F7:08:19:2A:3B:4C:5D:6E:7F:80:91:A2:B3:C4
        a=group:BUNDLE 0 1
        a=ice-options:trickle
        a=msid-semantic:WMS *
        m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
        c=IN IP4 0.0.0.0
        a=sendrecv
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
        a=fmtp:101 0-15
        a=ice-pwd:2b0c3bd2f4e5a6978899aabbccddeeff
        a=ice-ufrag:5f1e2d3c
        a=mid:0
        a=msid:{a1b2c3d4-e5f6-4789-8abc-def012345678} {b2c3d4e5-f6a7-4890-9bcd-ef0123456789}
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        a=rtpmap:9 G722/8000/1
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=setup:actpass
        a=ssrc:1390127426 cname:{c3d4e5f6-a7b8-4901-8cde-f01234567890}
        m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98
        c=IN IP4 0.0.0.0
        a=sendrecv
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
        a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
        a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
        a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
        a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1
        a=fmtp:120 max-fs=12288;max-fr=60
        a=fmtp:124 apt=120
        a=fmtp:121 max-fs=12288;max-fr=60
        a=fmtp:125 apt=121
        a=fmtp:127 apt=126
        a=fmtp:98 apt=97
        a=ice-pwd:2b0c3bd2f4e5a6978899aabbccddeeff
        a=ice-ufrag:5f1e2d3c
        a=mid:1
        a=msid:{a1b2c3d4-e5f6-4789-8abc-def012345678} {d4e5f6a7-b8c9-4012-8def-012345678901}
        a=rtcp-fb:120 nack
        a=rtcp-fb:120 nack pli
        a=rtcp-fb:120 ccm fir
        a=rtcp-fb:120 goog-remb
        a=rtcp-fb:120 transport-cc
        a=rtcp-fb:121 nack
        a=rtcp-fb:121 nack pli
        a=rtcp-fb:121 ccm fir
        a=rtcp-fb:121 goog-remb
        a=rtcp-fb:121 transport-cc
        a=rtcp-fb:126 nack
        a=rtcp-fb:126 nack pli
        a=rtcp-fb:126 ccm fir
        a=rtcp-fb:126 goog-remb
        a=rtcp-fb:126 transport-cc
        a=rtcp-fb:97 nack
        a=rtcp-fb:97 nack pli
        a=rtcp-fb:97 ccm fir
        a=rtcp-fb:97 goog-remb
        a=rtcp-fb:97 transport-cc
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:120 VP8/90000
        a=rtpmap:124 rtx/90000
        a=rtpmap:121 VP9/90000
        a=rtpmap:125 rtx/90000
        a=rtpmap:126 H264/90000
        a=rtpmap:127 rtx/90000
        a=rtpmap:97 H264/90000
        a=rtpmap:98 rtx/90000
        a=setup:actpass
        a=ssrc:2918172031 cname:{c3d4e5f6-a7b8-4901-8cde-f01234567890}
        a=ssrc:1520414163 cname:{c3d4e5f6-a7b8-4901-8cde-f01234567890}
        a=ssrc-group:FID 2918172031 1520414163
        """);

    /// <summary>aiortc 1.4.0-style offer: candidates inline, one extmap id (2) used for two URIs across the bundled sections.</summary>
    public static readonly string Aiortc = Crlf("""
        v=0
        o=- 3871349829 3871349829 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=msid-semantic:WMS *
        m=audio 50412 UDP/TLS/RTP/SAVPF 96 0 8
        c=IN IP4 192.168.1.20
        a=sendrecv
        a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=mid:0
        a=msid:6f1c2b3a-4d5e-4f60-8172-839405a6b7c8 1a2b3c4d-5e6f-4708-9a1b-2c3d4e5f6a7b
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc:1793523340 cname:ad9a5c3e-7b1f-4c2d-9e8f-0a1b2c3d4e5f
        a=rtpmap:96 opus/48000/2
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=candidate:3b6a0a4f1f5c6e7d8a9b0c1d2e3f4a5b 1 udp 2130706431 192.168.1.20 50412 typ host
        a=candidate:9f8e7d6c5b4a39281706f5e4d3c2b1a0 1 udp 1694498815 203.0.113.7 50412 typ srflx raddr 192.168.1.20 rport 50412
        a=end-of-candidates
        a=ice-ufrag:hU3p
        a=ice-pwd:n1J0Yk9cXbW8vU7tS6rQ5pO4
        a=fingerprint:sha-256 7E:AB:12:9C:33:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E
        a=setup:actpass
        m=video 50412 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102
        c=IN IP4 192.168.1.20
        a=sendrecv
        a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=mid:1
        a=msid:6f1c2b3a-4d5e-4f60-8172-839405a6b7c8 2b3c4d5e-6f70-4819-8a2b-3c4d5e6f7a8b
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc-group:FID 3360123000 1470118100
        a=ssrc:3360123000 cname:ad9a5c3e-7b1f-4c2d-9e8f-0a1b2c3d4e5f
        a=ssrc:1470118100 cname:ad9a5c3e-7b1f-4c2d-9e8f-0a1b2c3d4e5f
        a=rtpmap:97 VP8/90000
        a=rtcp-fb:97 nack
        a=rtcp-fb:97 nack pli
        a=rtcp-fb:97 goog-remb
        a=rtpmap:98 rtx/90000
        a=fmtp:98 apt=97
        a=rtpmap:99 H264/90000
        a=rtcp-fb:99 nack
        a=rtcp-fb:99 nack pli
        a=rtcp-fb:99 goog-remb
        a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:100 rtx/90000
        a=fmtp:100 apt=99
        a=rtpmap:101 H264/90000
        a=rtcp-fb:101 nack
        a=rtcp-fb:101 nack pli
        a=rtcp-fb:101 goog-remb
        a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:102 rtx/90000
        a=fmtp:102 apt=101
        a=candidate:3b6a0a4f1f5c6e7d8a9b0c1d2e3f4a5b 1 udp 2130706431 192.168.1.20 50412 typ host
        a=candidate:9f8e7d6c5b4a39281706f5e4d3c2b1a0 1 udp 1694498815 203.0.113.7 50412 typ srflx raddr 192.168.1.20 rport 50412
        a=end-of-candidates
        a=ice-ufrag:hU3p
        a=ice-pwd:n1J0Yk9cXbW8vU7tS6rQ5pO4
        a=fingerprint:sha-256 7E:AB:12:9C:33:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E
        a=setup:actpass
        """);

    /// <summary>The offer of Debian's python3-aiortc 1.4.0 for audio and video (sendrecv), exactly as it sent it
    /// (tests/Support/aiortc/offer.py, captured on a test machine): extmap id 2 means ssrc-audio-level in the audio
    /// section and abs-send-time in the video section of one BUNDLE group (RFC 8843 §9.1 forbids it), a=ice-ufrag and
    /// ports per section, IPv4 and IPv6 host candidates. CRLF line endings, as on the wire.</summary>
    public static readonly string AiortcCaptured = Crlf("""
        v=0
        o=- 4005653954 4005653954 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=msid-semantic:WMS *
        m=audio 37223 UDP/TLS/RTP/SAVPF 96 0 8
        c=IN IP4 192.0.2.2
        a=sendrecv
        a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=mid:0
        a=msid:e8efe599-2850-45d6-a292-558bed2c66a6 801d44ab-37ee-469e-a3e6-5a1d57cd1c06
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc:3093256488 cname:cc1b123b-0c59-4fde-8afa-8504a22b7cfe
        a=rtpmap:96 opus/48000/2
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=candidate:f957a2332b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 37223 typ host
        a=candidate:d0bcf3d9c29a2bc887618212a1623bfa 1 udp 2130706431 fd00::2 40938 typ host
        a=end-of-candidates
        a=ice-ufrag:3Rnr
        a=ice-pwd:1IyNt50WE2Mt6w2SH2mCC3
        a=fingerprint:sha-256 1D:61:37:04:F2:E4:DD:AC:77:FA:66:8E:22:21:5D:30:FD:6E:37:04:17:1D:DE:5D:CC:9E:0C:D2:5E:45:18:92
        a=setup:actpass
        m=video 41294 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102
        c=IN IP4 192.0.2.2
        a=sendrecv
        a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=mid:1
        a=msid:e8efe599-2850-45d6-a292-558bed2c66a6 6b1fc85f-ae90-435e-ae65-36dd3992ab94
        a=rtcp:9 IN IP4 0.0.0.0
        a=rtcp-mux
        a=ssrc-group:FID 3650360439 3867579731
        a=ssrc:3650360439 cname:cc1b123b-0c59-4fde-8afa-8504a22b7cfe
        a=ssrc:3867579731 cname:cc1b123b-0c59-4fde-8afa-8504a22b7cfe
        a=rtpmap:97 VP8/90000
        a=rtcp-fb:97 nack
        a=rtcp-fb:97 nack pli
        a=rtcp-fb:97 goog-remb
        a=rtpmap:98 rtx/90000
        a=fmtp:98 apt=97
        a=rtpmap:99 H264/90000
        a=rtcp-fb:99 nack
        a=rtcp-fb:99 nack pli
        a=rtcp-fb:99 goog-remb
        a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
        a=rtpmap:100 rtx/90000
        a=fmtp:100 apt=99
        a=rtpmap:101 H264/90000
        a=rtcp-fb:101 nack
        a=rtcp-fb:101 nack pli
        a=rtcp-fb:101 goog-remb
        a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:102 rtx/90000
        a=fmtp:102 apt=101
        a=candidate:f957a2332b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 41294 typ host
        a=candidate:d0bcf3d9c29a2bc887618212a1623bfa 1 udp 2130706431 fd00::2 54184 typ host
        a=end-of-candidates
        a=ice-ufrag:dMRn
        a=ice-pwd:2juWanmqvyd9UKymR6dKyC
        a=fingerprint:sha-256 1D:61:37:04:F2:E4:DD:AC:77:FA:66:8E:22:21:5D:30:FD:6E:37:04:17:1D:DE:5D:CC:9E:0C:D2:5E:45:18:92
        a=setup:actpass
        """);

    public static IReadOnlyList<string> All => [Chrome, ChromeSimulcast, ChromeSimulcastQhf, Firefox, Aiortc, AiortcCaptured];

    public static TheoryData<string> Names => new() { nameof(Chrome), nameof(ChromeSimulcast), nameof(ChromeSimulcastQhf), nameof(Firefox), nameof(Aiortc), nameof(AiortcCaptured) };

    public static string ByName(string name) => name switch
    {
        nameof(Chrome) => Chrome,
        nameof(ChromeSimulcast) => ChromeSimulcast,
        nameof(ChromeSimulcastQhf) => ChromeSimulcastQhf,
        nameof(Firefox) => Firefox,
        nameof(AiortcCaptured) => AiortcCaptured,
        _ => Aiortc,
    };

    public const string ServerFingerprint = "sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

    public static TeleRehab.Media.Sdp.SdpLocalParameters Server(
        IReadOnlyDictionary<string, TeleRehab.Media.Sdp.SdpLocalStream>? streams = null, bool dataChannels = true) => new()
    {
        IceUfrag = "srvU",
        IcePwd = "serverIcePassword0123456789",
        Fingerprint = ServerFingerprint,
        Candidates =
        [
            "candidate:1 1 udp 2130706431 198.51.100.10 40000 typ host",
            "a=candidate:2 1 tcp 1518280447 198.51.100.10 443 typ host tcptype passive",
        ],
        LocalStreams = streams ?? new Dictionary<string, TeleRehab.Media.Sdp.SdpLocalStream>(),
        AcceptDataChannels = dataChannels,
    };
}
