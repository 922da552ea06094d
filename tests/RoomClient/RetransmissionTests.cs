using System.Buffers.Binary;
using System.Collections.Concurrent;
using TeleRehab.LoadTests;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The SFU terminates RTCP per leg: it answers a subscriber's NACK from the publication's retransmission
/// buffer (RTX where negotiated), and it NACKs the publisher for packets it did not get.</summary>
[Collection(RoomClientCollection.Name)]
public sealed class RetransmissionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private static byte[] Nack(uint senderSsrc, uint mediaSsrc, params ushort[] lost)
    {
        Span<NackPair> pairs = stackalloc NackPair[lost.Length];
        var count = TransportLayerNack.BuildPairs(lost, pairs);
        var nack = new TransportLayerNack(senderSsrc, mediaSsrc, pairs[..count]);
        var bytes = new byte[nack.GetSerializedLength()];
        nack.WriteTo(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_subscribers_nack_is_answered_from_the_buffer_with_the_original_payload()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("nack");
        var videoSsrc = Assert.Single(patient.ReceivedFrom(therapist.ParticipantId, "video").Ssrcs);
        var received = new ConcurrentQueue<(uint Ssrc, ushort Seq, byte PayloadType, byte[] Payload)>();
        patient.Media!.RtpWithMidReceivedHandler = (packet, _) =>
        {
            if (RtpPacketReader.TryParse(packet, out var rtp))
                received.Enqueue((rtp.Ssrc, rtp.SequenceNumber, rtp.PayloadType, rtp.Payload.ToArray()));
        };

        // Take a video packet the patient just received, and say it was lost.
        Assert.True(await RoomTestKit.WaitUntilAsync(() => received.Any(p => p.Ssrc == videoSsrc), RoomTestKit.Generous));
        var original = received.Last(p => p.Ssrc == videoSsrc);
        var countBefore = received.Count;
        Assert.True(patient.Media.SendRtcp(Nack(patient.Media.VideoSsrc, videoSsrc, original.Seq)));

        // The retransmission: an RTX packet (RFC 4588: its own SSRC, OSN first) or the same packet again.
        bool IsRetransmission((uint Ssrc, ushort Seq, byte PayloadType, byte[] Payload) p) =>
            (p.Ssrc != videoSsrc && p.Payload.Length == original.Payload.Length + 2
                && BinaryPrimitives.ReadUInt16BigEndian(p.Payload) == original.Seq && p.Payload.AsSpan(2).SequenceEqual(original.Payload))
            || (p.Ssrc == videoSsrc && p.Seq == original.Seq && p.Payload.AsSpan().SequenceEqual(original.Payload));
        Assert.True(await RoomTestKit.WaitUntilAsync(() => received.Skip(countBefore).Any(IsRetransmission), TimeSpan.FromSeconds(10)),
            "no retransmission of the NACKed packet arrived");
        var retransmission = received.Skip(countBefore).First(IsRetransmission);
        output.WriteLine(retransmission.Ssrc == videoSsrc ? "plain retransmission" : $"RTX on SSRC {retransmission.Ssrc}, PT {retransmission.PayloadType}");
    }

    /// <summary>A 1:1 room whose therapist publishes video packets by hand (no synthetic sender), with every NACK the
    /// SFU sends the therapist about its video collected.</summary>
    private async Task<(SessionClient Therapist, SessionClient Patient, ConcurrentQueue<ushort> Nacked)> HandPublishingPairAsync(string name)
    {
        var session = await _kit.Api.CreateAsync("one-to-one", waitingRoom: false, title: name);
        var therapist = _kit.NewClient($"{name}-therapist");
        Assert.Equal("joined", (await therapist.JoinAsync(SessionClient.TokenFromLink(session.TherapistLink)).WaitAsync(RoomTestKit.Generous)).State);
        await therapist.WaitMediaConnectedAsync(RoomTestKit.Generous);
        var patient = await _kit.JoinAsync($"{name}-patient", session.PatientLink!);
        var nacked = new ConcurrentQueue<ushort>();
        var media = therapist.Media!;
        var previous = media.RtcpReceivedHandler;
        media.RtcpReceivedHandler = rtcp =>
        {
            previous?.Invoke(rtcp);
            foreach (var packet in new RtcpCompoundReader(rtcp))
            {
                if (packet.PacketType == RtcpPacketType.TransportFeedback && packet.Format == 1
                    && TransportLayerNack.TryParse(packet.Packet, out var nack) && nack.MediaSsrc == media.VideoSsrc)
                {
                    foreach (var seq in nack.LostSequenceNumbers) nacked.Enqueue(seq);
                }
            }
        };
        return (therapist, patient, nacked);
    }

    /// <summary>Sends twelve small video packets from <paramref name="first"/> on, all but <paramref name="missing"/>.</summary>
    private static async Task SendVideoAsync(SessionClient publisher, ushort first, ushort missing)
    {
        var media = publisher.Media!;
        var videoPt = (byte)media.Session!.Media.First(m => m.Mid == media.SendMids["video"]).Codecs[0].PayloadType;
        var buffer = new byte[300];
        for (var seq = first; seq < first + 12; seq++)
        {
            if (seq == missing) continue;
            var header = new RtpHeaderWriter(buffer, videoPt, seq, 90u * seq, media.VideoSsrc, marker: true, csrcs: default).Finish();
            Assert.True(media.SendRtp(buffer.AsSpan(0, header + 100)));
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task The_sfu_nacks_the_publisher_for_a_packet_it_did_not_get()
    {
        var (therapist, _, nacked) = await HandPublishingPairAsync("upstream");
        const ushort first = 2000, missing = first + 6; // this one never reaches the SFU
        await SendVideoAsync(therapist, first, missing);

        Assert.True(await RoomTestKit.WaitUntilAsync(() => nacked.Contains(missing), TimeSpan.FromSeconds(10)),
            $"the SFU did not NACK the missing packet; NACKed: [{string.Join(", ", nacked.Distinct())}]");
        Assert.DoesNotContain(nacked, seq => seq != missing);
    }

    [Fact]
    public async Task A_subscribers_nack_for_a_packet_the_sfu_never_got_is_asked_for_upstream()
    {
        var (therapist, patient, nacked) = await HandPublishingPairAsync("relay");
        var received = new ConcurrentQueue<(uint Ssrc, ushort Seq)>();
        patient.Media!.RtpWithMidReceivedHandler = (packet, _) =>
        {
            if (RtpPacketReader.TryParse(packet, out var rtp)) received.Enqueue((rtp.Ssrc, rtp.SequenceNumber));
        };
        const ushort first = 3000, missing = first + 6; // never reaches the SFU
        await SendVideoAsync(therapist, first, missing);

        // The SFU asks for the gap by itself, and gives up after its retries (about a second).
        Assert.True(await RoomTestKit.WaitUntilAsync(() => nacked.Contains(missing), TimeSpan.FromSeconds(10)));
        await Task.Delay(2500);

        // The subscriber asks for the packet it saw missing: its outgoing seq is the one between its neighbours'.
        Assert.True(await RoomTestKit.WaitUntilAsync(() => received.Count >= 11, RoomTestKit.Generous));
        var packets = received.ToList();
        var beforeGap = packets.Single(p => !packets.Any(q => q.Seq == (ushort)(p.Seq + 1)) && packets.Any(q => q.Seq == (ushort)(p.Seq + 2)));
        var countBefore = nacked.Count;
        Assert.True(patient.Media.SendRtcp(Nack(patient.Media.VideoSsrc, beforeGap.Ssrc, (ushort)(beforeGap.Seq + 1))));

        Assert.True(await RoomTestKit.WaitUntilAsync(() => nacked.Skip(countBefore).Contains(missing), TimeSpan.FromSeconds(10)),
            $"the SFU did not ask the publisher again; NACKed since: [{string.Join(", ", nacked.Skip(countBefore))}]");
    }

    [Fact]
    public async Task A_subscribers_keyframe_request_reaches_the_publisher_throttled()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("pli");
        var videoSsrc = Assert.Single(patient.ReceivedFrom(therapist.ParticipantId, "video").Ssrcs);
        var sender = therapist.Sender!;
        await Task.Delay(500); // the SFU's own start-up keyframe requests are behind us
        var before = sender.KeyframeRequests;

        // A burst of ten PLIs (RFC 4585 §6.3.1) within a few milliseconds: the SFU relays one now, at most one more later.
        var pli = new byte[PictureLossIndication.Size];
        new PictureLossIndication(patient.Media!.VideoSsrc, videoSsrc).WriteTo(pli);
        for (var i = 0; i < 10; i++) Assert.True(patient.Media.SendRtcp(pli));

        Assert.True(await RoomTestKit.WaitUntilAsync(() => sender.KeyframeRequests > before, TimeSpan.FromSeconds(10)),
            "the publisher never got a keyframe request");
        await Task.Delay(1000);
        var relayed = sender.KeyframeRequests - before;
        Assert.InRange(relayed, 1, 2);
    }

    [Fact]
    public async Task A_subscribers_audio_loss_reaches_the_publisher_in_the_sfus_reports_so_it_adds_fec()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("fec");
        var audioSsrc = Assert.Single(patient.ReceivedFrom(therapist.ParticipantId, "audio").Ssrcs);
        var videoSsrc = Assert.Single(patient.ReceivedFrom(therapist.ParticipantId, "video").Ssrcs);
        // What the SFU reports to the therapist about each of its streams (worker thread: a concurrent queue).
        var reports = new ConcurrentQueue<ReportBlock>();
        therapist.Media!.RtcpReceivedHandler = rtcp =>
        {
            foreach (var packet in new RtcpCompoundReader(rtcp))
                if (packet.PacketType == RtcpPacketType.ReceiverReport && ReceiverReport.TryParse(packet.Packet, out var rr))
                    foreach (var block in rr.ReportBlocks) reports.Enqueue(block);
        };
        var therapistAudio = therapist.Media.AudioSsrc;
        var therapistVideo = therapist.Media.VideoSsrc;

        // The therapist's own path is clean: the SFU reports no loss.
        Assert.True(await RoomTestKit.WaitUntilAsync(() => reports.Any(b => b.Ssrc == therapistAudio), RoomTestKit.Generous), "no report about the therapist's audio");
        Assert.All(reports, b => Assert.Equal(0, b.FractionLost));

        // The patient's leg loses a quarter of the therapist's audio (and, say, of the video): it reports so, every 200 ms.
        using var stop = new CancellationTokenSource();
        var reporting = Task.Run(async () =>
        {
            var buffer = new byte[256];
            while (!stop.IsCancellationRequested)
            {
                ReadOnlySpan<ReportBlock> blocks = [new(audioSsrc, 64, 10, 1000, 0, 0, 0), new(videoSsrc, 64, 10, 1000, 0, 0, 0)];
                var length = TeleRehab.Media.Sfu.RtcpReportWriter.WriteReceiverReport(buffer, 0x5EED, blocks, "patient"u8);
                patient.Media!.SendRtcp(buffer.AsSpan(0, length));
                await Task.Delay(200);
            }
        });
        try
        {
            reports.Clear();
            Assert.True(await RoomTestKit.WaitUntilAsync(() => reports.Any(b => b.Ssrc == therapistAudio && b.FractionLost >= 64), RoomTestKit.Generous),
                $"the SFU's reports about the therapist's audio: {string.Join(", ", reports.Where(b => b.Ssrc == therapistAudio).Select(b => b.FractionLost))}");
            // Only audio: the video's loss is answered by retransmission and layers, and the therapist's video report stays
            // this hop's (clean); the cumulative count is this hop's too.
            Assert.All(reports.Where(b => b.Ssrc == therapistVideo), b => Assert.Equal(0, b.FractionLost));
            Assert.All(reports, b => Assert.Equal(0, b.CumulativeLost));
        }
        finally
        {
            stop.Cancel();
            await reporting;
        }
    }
}
