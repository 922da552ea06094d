using System.Buffers.Binary;
using TeleRehab.Media.Bwe;
using TeleRehab.Media.Rtcp;
using TeleRehab.Media.Rtp;
using TeleRehab.Media.Sfu;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>A leg's egress on a fake clock: transport-wide numbering, pacing, feedback to the estimator, probes. The
/// receiver end is the SFU's own <see cref="TransportFeedbackRecorder"/> behind a simulated bottleneck.</summary>
public class SubscriberEgressTests
{
    private const int TwccId = 3;
    private const uint VideoSsrc = 0x1111, AudioSsrc = 0x2222, RtxSsrc = 0x3333;

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>The wire after the egress: a bottleneck of <see cref="LinkBps"/> with a one-way delay, then a receiver that
    /// records arrivals and sends feedback (after the return delay) to the egress.</summary>
    private sealed class Wire : IEgressTransport, IPaddingSource
    {
        public readonly List<(TimeSpan At, uint Ssrc, ushort TransportSeq, int Length, bool Padding)> Sent = [];
        public readonly TransportFeedbackRecorder Receiver = new(0xABCD);
        public double LinkBps = 1_000_000;
        public TimeSpan OneWay = Ms(20);
        public TimeSpan Now;
        private TimeSpan _busyUntil;
        private readonly Queue<(TimeSpan At, ushort Seq, int Size)> _arrivals = new();
        private ushort _rtxSeq;

        public bool SendRtp(Span<byte> buffer, int length)
        {
            Assert.True(RtpPacketReader.TryParse(buffer[..length], out var rtp));
            Assert.True(rtp.TryGetExtension(TwccId, out var value));
            var seq = BinaryPrimitives.ReadUInt16BigEndian(value);
            Sent.Add((Now, rtp.Ssrc, seq, length, rtp.PayloadLength == 0));
            var start = Now > _busyUntil ? Now : _busyUntil;
            _busyUntil = start + TimeSpan.FromSeconds((length + 38) * 8 / LinkBps);
            _arrivals.Enqueue((_busyUntil + OneWay, seq, length));
            return true;
        }

        public int WritePadding(Span<byte> destination, int paddingBytes, TimeSpan now)
        {
            var header = new RtpHeaderWriter(destination, 97, _rtxSeq++, 0, RtxSsrc, marker: false, csrcs: default).Finish();
            return RtpHeaderWriter.AddPadding(destination, header, paddingBytes);
        }

        /// <summary>Delivers arrivals up to <paramref name="now"/> and returns feedback due (as the egress would get it one
        /// one-way delay later; close enough for these tests).</summary>
        public void Step(SubscriberEgress egress, TimeSpan now)
        {
            Now = now;
            while (_arrivals.Count > 0 && _arrivals.Peek().At <= now)
            {
                var (at, seq, size) = _arrivals.Dequeue();
                Receiver.OnPacket(seq, size, at);
            }
            var buffer = new byte[1500];
            int length;
            while ((length = Receiver.WriteFeedback(now, buffer)) > 0)
            {
                Assert.True(TransportWideFeedback.TryParse(buffer.AsSpan(0, length), out var feedback));
                egress.OnTransportFeedback(feedback, now);
            }
            if (egress.NextTimeout is { } due && due <= now) egress.HandleTimeout(now);
        }
    }

    private static int Packet(byte[] buffer, uint ssrc, ushort seq, int payload, bool withPublishersTwcc = true)
    {
        var writer = new RtpHeaderWriter(buffer, 96, seq, seq * 3000u, ssrc, marker: false, csrcs: default);
        if (withPublishersTwcc) writer.AddExtension(TwccId, [0xEE, 0xEE]); // the publisher's own number, never forwarded
        var header = writer.Finish();
        buffer.AsSpan(header, payload).Fill(0x5A);
        return header + payload;
    }

    [Fact]
    public void Every_packet_carries_the_legs_own_consecutive_transport_number()
    {
        var wire = new Wire();
        var egress = new SubscriberEgress(wire) { TransportSequenceExtensionId = TwccId };
        var buffer = new byte[2048];
        for (ushort i = 0; i < 20; i++)
        {
            wire.Now = Ms(i);
            var length = Packet(buffer, i % 4 == 0 ? AudioSsrc : VideoSsrc, i, 100, withPublishersTwcc: i % 2 == 0);
            Assert.True(egress.Send(buffer, length, i % 4 == 0 ? EgressKind.Audio : EgressKind.Video, wire.Now));
        }
        Assert.Equal(20, wire.Sent.Count);
        for (var i = 1; i < wire.Sent.Count; i++) Assert.Equal((ushort)(wire.Sent[i - 1].TransportSeq + 1), wire.Sent[i].TransportSeq);
        Assert.DoesNotContain(wire.Sent, s => s.TransportSeq == 0xEEEE);
    }

    [Fact]
    public void Without_feedback_nothing_is_paced_or_probed()
    {
        var wire = new Wire { LinkBps = 100_000 };
        var egress = new SubscriberEgress(wire, startBps: 100_000) { TransportSequenceExtensionId = TwccId, PaddingSource = null };
        egress.PaddingSource = wire;
        var buffer = new byte[2048];
        for (ushort i = 0; i < 50; i++)
        {
            var length = Packet(buffer, VideoSsrc, i, 1100);
            egress.Send(buffer, length, EgressKind.Video, Ms(0));
        }
        Assert.Equal(50, wire.Sent.Count); // a keyframe burst goes as it comes
        Assert.Equal(0, egress.Pacer.QueuedPackets);
        egress.HandleTimeout(Ms(100));
        Assert.Equal(0, egress.ProbePacketsSent);
    }

    [Fact]
    public void With_an_estimate_a_burst_is_paced_and_audio_does_not_wait_behind_it()
    {
        var wire = new Wire { LinkBps = 500_000 };
        var egress = new SubscriberEgress(wire, startBps: 300_000) { TransportSequenceExtensionId = TwccId };
        var buffer = new byte[2048];
        ushort seq = 0;
        // Some media so the receiver's feedback gives the estimator something to work with.
        for (var t = 0; t < 2000; t += 20)
        {
            wire.Step(egress, Ms(t));
            var length = Packet(buffer, VideoSsrc, seq++, 500);
            egress.Send(buffer, length, EgressKind.Video, Ms(t));
        }
        Assert.True(egress.Estimator.FeedbacksReceived > 0);
        var estimate = egress.EstimateBps;

        // A keyframe of 60 packets arrives at once, then an audio packet.
        var burstAt = Ms(2000);
        wire.Step(egress, burstAt);
        var sentBefore = wire.Sent.Count;
        for (var i = 0; i < 60; i++)
        {
            var length = Packet(buffer, VideoSsrc, seq++, 1100);
            Assert.True(egress.Send(buffer, length, EgressKind.Video, burstAt));
        }
        var length2 = Packet(buffer, AudioSsrc, 1, 80);
        Assert.True(egress.Send(buffer, length2, EgressKind.Audio, burstAt));
        var sentAtOnce = wire.Sent.Skip(sentBefore).Count(s => s.Ssrc == VideoSsrc);
        Assert.True(egress.Pacer.QueuedPackets > 0, "nothing was queued");
        Assert.True(sentAtOnce < 20, $"{sentAtOnce} packets of the burst went at once");
        Assert.Contains(wire.Sent.Skip(sentBefore), s => s.Ssrc == AudioSsrc && s.At == burstAt);

        // The queue drains at about the pacing rate (2.5 x the estimate), well before the queue's time limit.
        var t2 = burstAt;
        while (egress.Pacer.QueuedPackets > 0 && t2 < burstAt + Ms(2000))
        {
            t2 += Ms(1);
            wire.Step(egress, t2);
        }
        Assert.Equal(0, egress.Pacer.QueuedPackets);
        var drained = (t2 - burstAt).TotalSeconds;
        var expected = 60 * (1100 + 60) * 8 / (Pacer.PacingFactor * estimate);
        Assert.InRange(drained, expected * 0.3, Pacer.MaxQueueDelay.TotalSeconds + 0.05);
    }

    /// <summary>A 1.5 Mbit/s leg that wants 2 Mbit/s and pads from its own RTX stream: it probes.</summary>
    private static (Wire Wire, SubscriberEgress Egress) ProbingLeg()
    {
        var wire = new Wire { LinkBps = 1_500_000 };
        var egress = new SubscriberEgress(wire, startBps: 300_000) { TransportSequenceExtensionId = TwccId, PaddingSource = wire };
        egress.SetWantedBitrate(2_000_000, TimeSpan.Zero);
        return (wire, egress);
    }

    [Fact]
    public void The_estimate_follows_the_link_and_probes_are_padding_on_the_rtx_stream()
    {
        var (wire, egress) = ProbingLeg();
        var buffer = new byte[2048];
        ushort seq = 0;
        // Media at 250 kbit/s: the link's headroom can only be found by probing.
        for (var t = 0; t <= 8000; t++)
        {
            var now = Ms(t);
            wire.Step(egress, now);
            if (t % 32 == 0)
            {
                var length = Packet(buffer, VideoSsrc, seq++, 1000);
                egress.Send(buffer, length, EgressKind.Video, now);
            }
        }
        Assert.True(egress.ProbePacketsSent > 0, "no probe was sent");
        Assert.All(wire.Sent.Where(s => s.Padding), s => Assert.Equal(RtxSsrc, s.Ssrc));
        Assert.True(egress.EstimateBps > 600_000, $"the estimate stayed at {egress.EstimateBps} bit/s on a 1.5 Mbit/s link");
        Assert.True(egress.EstimateBps < 2_000_000, $"the estimate {egress.EstimateBps} bit/s is above the link");
    }

    [Fact]
    public void A_probe_cluster_whose_padding_source_goes_away_leaves_no_deadline_in_the_past()
    {
        var (wire, egress) = ProbingLeg();
        var buffer = new byte[2048];
        ushort seq = 0;
        TimeSpan? dropped = null;
        for (var t = 0; t <= 4000; t++)
        {
            var now = Ms(t);
            wire.Step(egress, now);
            // The first probe packet went out: the cluster is under way when a renegotiation drops the padding source.
            if (dropped is null && egress.ProbePacketsSent > 0)
            {
                egress.PaddingSource = null;
                dropped = now;
            }
            // Each timer run leaves the next deadline in the future (a worker would otherwise run it in a busy loop).
            if (egress.NextTimeout is { } due && due <= now)
            {
                egress.HandleTimeout(now);
                Assert.False(egress.NextTimeout is { } again && again <= now, $"a deadline left due at {now} after the padding source went at {dropped}");
            }
            if (t % 32 == 0)
            {
                var length = Packet(buffer, VideoSsrc, seq++, 1000);
                egress.Send(buffer, length, EgressKind.Video, now);
            }
        }
        Assert.NotNull(dropped);
        var probes = egress.ProbePacketsSent;
        Assert.InRange(probes, 1, 20); // nothing more after the source went
    }
}
