using System.Text;
using TeleRehab.Media.Pose;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Tests.Support;

namespace TeleRehab.Media.Tests.Rooms;

/// <summary>The pose forwarder on a fake clock: who receives, newest first, rate caps, validation, budget.</summary>
public sealed class PoseForwarderTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(10);

    /// <summary>A receiver's pose channel: decodes what it gets per sender, as the therapist's page does.</summary>
    private sealed class FakeChannel : IPoseChannel
    {
        private readonly Dictionary<string, KeypointDecoder> _decoders = [];
        private readonly bool _record;

        public FakeChannel(bool record = true) => _record = record;

        public bool IsOpen { get; set; } = true;
        public long BufferedAmount { get; set; }
        public bool Refuse { get; set; }
        public int MessagesSent { get; private set; }
        public int BytesSent { get; private set; }
        public List<(string Sender, uint Timestamp, KeypointDecodeStatus Status, KeypointFrame Frame)> Received { get; } = [];

        public bool Send(ReadOnlySpan<byte> message)
        {
            if (Refuse) return false;
            MessagesSent++;
            BytesSent += message.Length;
            if (!_record) return true;
            var sender = Encoding.UTF8.GetString(message.Slice(1, message[0]));
            if (!_decoders.TryGetValue(sender, out var decoder)) _decoders[sender] = decoder = new KeypointDecoder();
            decoder.TryDecode(message[(1 + message[0])..], out var frame, out var status);
            Received.Add((sender, frame.TimestampMs, status, frame));
            return true;
        }

        public IEnumerable<uint> TimestampsFrom(string sender) =>
            Received.Where(r => r.Sender == sender && r.Status == KeypointDecodeStatus.Ok).Select(r => r.Timestamp);
    }

    /// <summary>A patient's page: encodes a moving pose per frame, timestamps in milliseconds.</summary>
    private sealed class Patient(string id)
    {
        private readonly KeypointEncoder _encoder = new();
        private readonly byte[] _buffer = new byte[KeypointFormat.MaxFrameLength];
        public string Id { get; } = id;

        public ReadOnlyMemory<byte> Frame(uint timestampMs)
        {
            var frame = new KeypointFrame { TimestampMs = timestampMs };
            var swing = (float)Math.Sin(timestampMs / 300.0) * 0.05f;
            for (var i = 0; i < KeypointFormat.LandmarkCount; i++)
                frame.Landmarks[i] = i == 20 ? default : new Landmark(0.3f + i * 0.012f + swing, 0.1f + i * 0.025f, -0.2f + i * 0.01f, 0.9f, 0.95f);
            var n = _encoder.Encode(frame, _buffer);
            return _buffer.AsSpan(0, n).ToArray();
        }
    }

    private static (PoseForwarder Forwarder, PoseParticipant Sender, PoseParticipant Viewer, FakeChannel Channel) OneToOne(PoseForwarderOptions? options = null)
    {
        var forwarder = new PoseForwarder(options);
        var sender = forwarder.Add("patient-a", PoseRole.Sender);
        var viewer = forwarder.Add("therapist", PoseRole.Viewer);
        var channel = new FakeChannel();
        forwarder.SetChannel(viewer, channel, Start);
        forwarder.SetChannel(sender, new FakeChannel(), Start);
        return (forwarder, sender, viewer, channel);
    }

    private static TimeSpan Ms(double ms) => Start + TimeSpan.FromMilliseconds(ms);

    /// <summary>Runs the receivers' timers up to <paramref name="until"/>, as the worker does.</summary>
    private static void RunTimers(PoseForwarder forwarder, TimeSpan until)
    {
        for (var guard = 0; guard < 100_000; guard++)
        {
            PoseParticipant? due = null;
            var at = TimeSpan.MaxValue;
            foreach (var p in forwarder.Participants)
            {
                if (p.NextTimeout is { } next && next <= until && next < at) (due, at) = (p, next);
            }
            if (due is null) return;
            forwarder.HandleTimeout(due, at);
        }
        Assert.Fail("the timers do not settle");
    }

    [Fact]
    public void AViewerGetsTheSendersPoseAsTheSenderCodedIt()
    {
        var (forwarder, sender, _, channel) = OneToOne();
        var patient = new Patient(sender.Id);
        var reference = new KeypointDecoder();
        for (var i = 0; i < 12; i++)
        {
            var t = (uint)(1000 + i * 100);
            var bytes = patient.Frame(t);
            RunTimers(forwarder, Ms(i * 100));
            Assert.Equal(PoseFrameResult.Accepted, forwarder.OnMessage(sender, bytes.Span, false, Ms(i * 100)));
            Assert.True(reference.TryDecode(bytes.Span, out var expected));
            var got = channel.Received[^1];
            Assert.Equal(("patient-a", t, KeypointDecodeStatus.Ok), (got.Sender, got.Timestamp, got.Status));
            for (var l = 0; l < KeypointFormat.LandmarkCount; l++) Assert.Equal(expected.Landmarks[l], got.Frame.Landmarks[l]);
        }
        Assert.Equal(12, forwarder.FramesForwarded);
        Assert.Equal(12, sender.FramesAccepted);
    }

    [Fact]
    public void TherapistAndObserversReceiveOtherPatientsOnlyWhenTheyAsk()
    {
        var forwarder = new PoseForwarder();
        var a = forwarder.Add("patient-a", PoseRole.Sender);
        var b = forwarder.Add("patient-b", PoseRole.Sender);
        var therapist = forwarder.Add("therapist", PoseRole.Viewer);
        var observer = forwarder.Add("observer", PoseRole.Viewer);
        var channels = new Dictionary<PoseParticipant, FakeChannel>();
        foreach (var p in forwarder.Participants)
        {
            channels[p] = new FakeChannel();
            forwarder.SetChannel(p, channels[p], Start);
        }
        var pa = new Patient("patient-a");
        var pb = new Patient("patient-b");

        forwarder.OnMessage(a, pa.Frame(1000).Span, false, Ms(0));
        forwarder.OnMessage(b, pb.Frame(1000).Span, false, Ms(1));
        Assert.Equal(["patient-a", "patient-b"], channels[therapist].Received.Select(r => r.Sender));
        Assert.Equal(["patient-a", "patient-b"], channels[observer].Received.Select(r => r.Sender));
        Assert.Empty(channels[a].Received);
        Assert.Empty(channels[b].Received);

        // Patient A asks to see its own pose; B asks for everybody's.
        forwarder.SetInterest(a, PoseInterest.Own);
        forwarder.SetInterest(b, PoseInterest.Everyone);
        forwarder.OnMessage(a, pa.Frame(1200).Span, false, Ms(200));
        forwarder.OnMessage(b, pb.Frame(1200).Span, false, Ms(201));
        Assert.Equal(["patient-a"], channels[a].Received.Select(r => r.Sender));
        Assert.Equal(["patient-a", "patient-b"], channels[b].Received.Select(r => r.Sender));

        // A viewer's frames go nowhere.
        Assert.Equal(PoseFrameResult.NotSender, forwarder.OnMessage(therapist, pa.Frame(1300).Span, false, Ms(300)));
        Assert.Equal(1, forwarder.NotSenderFrames);
    }

    [Fact]
    public void ASlowReceiverGetsTheLatestFrameNotABacklog()
    {
        var (forwarder, sender, viewer, channel) = OneToOne();
        var patient = new Patient(sender.Id);
        forwarder.OnMessage(sender, patient.Frame(1000).Span, false, Ms(0));
        Assert.Single(channel.Received);

        channel.BufferedAmount = 5000; // the receiver's link is behind
        for (var i = 1; i <= 5; i++)
        {
            forwarder.OnMessage(sender, patient.Frame((uint)(1000 + i * 100)).Span, false, Ms(i * 100));
            RunTimers(forwarder, Ms(i * 100));
        }
        Assert.Single(channel.Received);
        Assert.Equal(4, viewer.SupersededFrames);
        Assert.NotNull(viewer.NextTimeout); // it looks again while a frame waits

        channel.BufferedAmount = 0;
        RunTimers(forwarder, Ms(560));
        Assert.Equal(2, channel.Received.Count);
        Assert.Equal((1500u, KeypointDecodeStatus.Ok), (channel.Received[1].Timestamp, channel.Received[1].Status));
        Assert.Null(viewer.NextTimeout);
    }

    [Fact]
    public void NeverAnOldFrameAfterANewerOneAndEveryFrameSentDecodes()
    {
        var random = new Random(7);
        var (forwarder, sender, _, channel) = OneToOne();
        var patient = new Patient(sender.Id);
        for (var i = 0; i < 600; i++)
        {
            var now = Ms(i * 33 + random.Next(0, 20));
            channel.BufferedAmount = random.Next(0, 4) == 0 ? 1000 : 0;
            RunTimers(forwarder, now);
            forwarder.OnMessage(sender, patient.Frame((uint)(i * 33)).Span, false, now);
        }
        var timestamps = channel.Received.Select(r => r.Timestamp).ToList();
        Assert.True(timestamps.Count > 100);
        for (var i = 1; i < timestamps.Count; i++) Assert.True(timestamps[i] > timestamps[i - 1], $"frame {i} goes back in time");
        // Frames skipped for this receiver never break its delta chain: it re-encodes per receiver.
        Assert.All(channel.Received, r => Assert.Equal(KeypointDecodeStatus.Ok, r.Status));
    }

    [Fact]
    public void EachReceiverIsCappedToItsFrameRate()
    {
        var (forwarder, sender, viewer, channel) = OneToOne(new PoseForwarderOptions { MaxFramesPerSecondPerReceiver = 15, MaxFramesPerSecondPerSender = 60 });
        var patient = new Patient(sender.Id);
        for (var i = 0; i < 60; i++) // 30 frames/s for 2 s
        {
            RunTimers(forwarder, Ms(i * 33.3));
            forwarder.OnMessage(sender, patient.Frame((uint)(i * 33)).Span, false, Ms(i * 33.3));
        }
        RunTimers(forwarder, Ms(2000));
        Assert.InRange(channel.Received.Count, 28, 15 * 2 + 2);
        Assert.Equal(0, sender.FloodedFrames);
        Assert.InRange(viewer.SupersededFrames, 60 - channel.Received.Count - 1, 60 - channel.Received.Count); // the last may still wait
        Assert.All(channel.Received, r => Assert.Equal(KeypointDecodeStatus.Ok, r.Status));

        // A second viewer has its own cap: a slow one does not hold back a fast one.
        var (f2, s2, _, fast) = OneToOne(new PoseForwarderOptions { MaxFramesPerSecondPerReceiver = 30, MaxFramesPerSecondPerSender = 60 });
        var slowViewer = f2.Add("observer", PoseRole.Viewer);
        var slow = new FakeChannel { BufferedAmount = 10_000 };
        f2.SetChannel(slowViewer, slow, Start);
        var p2 = new Patient(s2.Id);
        for (var i = 0; i < 30; i++)
        {
            RunTimers(f2, Ms(i * 33.4));
            f2.OnMessage(s2, p2.Frame((uint)(i * 33)).Span, false, Ms(i * 33.4));
        }
        Assert.Empty(slow.Received);
        Assert.InRange(fast.Received.Count, 29, 30);
    }

    [Fact]
    public void MalformedFramesAreDroppedAndCountedAndTheStreamGoesOn()
    {
        var (forwarder, sender, _, channel) = OneToOne();
        var patient = new Patient(sender.Id);
        forwarder.OnMessage(sender, patient.Frame(1000).Span, false, Ms(0));
        Assert.Equal(PoseFrameResult.Malformed, forwarder.OnMessage(sender, [0xD1, 0x06, 0, 1], false, Ms(50)));
        Assert.Equal(PoseFrameResult.Malformed, forwarder.OnMessage(sender, new byte[300], false, Ms(60)));
        Assert.Equal(PoseFrameResult.Malformed, forwarder.OnMessage(sender, "{\"x\":1}"u8, true, Ms(70)));
        var good = patient.Frame(1100).ToArray();
        var flipped = (byte[])good.Clone();
        flipped[0] ^= 0x01;
        Assert.Equal(PoseFrameResult.Malformed, forwarder.OnMessage(sender, flipped, false, Ms(80)));
        Assert.Equal(PoseFrameResult.Accepted, forwarder.OnMessage(sender, good, false, Ms(100)));
        Assert.Equal(4, forwarder.MalformedFrames);
        Assert.Equal(4, sender.MalformedFrames);
        Assert.Equal([1000u, 1100u], channel.Received.Select(r => r.Timestamp));

        // A lost frame: deltas after it cannot be decoded until the next key frame, and are not forwarded.
        patient.Frame(1200); // never arrives
        Assert.Equal(PoseFrameResult.NotDecodable, forwarder.OnMessage(sender, patient.Frame(1300).Span, false, Ms(300)));
        Assert.Equal(1, forwarder.UndecodableFrames);
        Assert.Equal(2, channel.Received.Count);
    }

    [Fact]
    public void AFloodFromOnePatientIsCappedWhileAnotherPatientsFramesFlow()
    {
        var forwarder = new PoseForwarder(new PoseForwarderOptions { MaxFramesPerSecondPerSender = 30, SenderBurst = 10, MaxFramesPerSecondPerReceiver = 30 });
        var a = forwarder.Add("patient-a", PoseRole.Sender);
        var b = forwarder.Add("patient-b", PoseRole.Sender);
        var therapist = forwarder.Add("therapist", PoseRole.Viewer);
        var channel = new FakeChannel();
        forwarder.SetChannel(therapist, channel, Start);
        var pa = new Patient(a.Id);
        var pb = new Patient(b.Id);
        var bSent = 0;
        for (var i = 0; i < 1000; i++) // A: 1000 frames in one second; B: 10 frames/s
        {
            var now = Ms(i);
            RunTimers(forwarder, now);
            forwarder.OnMessage(a, pa.Frame((uint)i).Span, false, now);
            if (i % 100 == 50)
            {
                Assert.Equal(PoseFrameResult.Accepted, forwarder.OnMessage(b, pb.Frame((uint)i).Span, false, now));
                bSent++;
            }
        }
        RunTimers(forwarder, Ms(1100));
        Assert.InRange(a.FloodedFrames, 1000 - (30 + 10) - 1, 1000 - 30);
        Assert.Equal(a.FloodedFrames, forwarder.FloodedFrames);
        Assert.Equal(0, b.FloodedFrames);
        Assert.Equal(bSent, channel.TimestampsFrom("patient-b").Count());
        Assert.All(channel.Received, r => Assert.Equal(KeypointDecodeStatus.Ok, r.Status));
    }

    [Fact]
    public void SentBytesCountAgainstTheLegsBudgetWithTheirOverhead()
    {
        var (forwarder, sender, viewer, channel) = OneToOne(new PoseForwarderOptions { PerMessageOverhead = 93 });
        var patient = new Patient(sender.Id);
        Assert.Equal(0, forwarder.SentBitrateBps(viewer, Ms(0)));
        for (var i = 0; i < 10; i++) forwarder.OnMessage(sender, patient.Frame((uint)(i * 100)).Span, false, Ms(i * 100));
        Assert.Equal(10, channel.MessagesSent);
        Assert.Equal((channel.BytesSent + 10 * 93) * 8L, forwarder.SentBitrateBps(viewer, Ms(950)));
        // A second later nothing was sent: nothing is counted.
        Assert.Equal(0, forwarder.SentBitrateBps(viewer, Ms(2100)));
        Assert.Equal(0, forwarder.SentBitrateBps(sender, Ms(950)));
    }

    [Fact]
    public void ANewChannelStartsWithAKeyFrameAndALeaverIsForgotten()
    {
        var (forwarder, sender, viewer, channel) = OneToOne();
        var patient = new Patient(sender.Id);
        for (var i = 0; i < 3; i++) forwarder.OnMessage(sender, patient.Frame((uint)(i * 100)).Span, false, Ms(i * 100));
        var reopened = new FakeChannel();
        forwarder.SetChannel(viewer, reopened, Ms(300)); // the therapist's page reloaded
        forwarder.OnMessage(sender, patient.Frame(400).Span, false, Ms(400));
        Assert.Equal(KeypointDecodeStatus.Ok, Assert.Single(reopened.Received).Status);

        channel.IsOpen = false;
        forwarder.SetChannel(viewer, null, Ms(450));
        forwarder.OnMessage(sender, patient.Frame(500).Span, false, Ms(500));
        Assert.Null(viewer.NextTimeout);

        forwarder.SetChannel(viewer, reopened, Ms(550));
        forwarder.Remove(sender);
        Assert.Empty(viewer.Lanes);
        Assert.Single(forwarder.Participants);
    }

    [Fact]
    public void ForwardingAllocatesNothingOnceStarted()
    {
        var forwarder = new PoseForwarder(new PoseForwarderOptions { MaxFramesPerSecondPerReceiver = 1000, ReceiverBurst = 1000, MaxFramesPerSecondPerSender = 1000, SenderBurst = 1000 });
        var sender = forwarder.Add("patient-a", PoseRole.Sender);
        var viewer = forwarder.Add("therapist", PoseRole.Viewer);
        var channel = new FakeChannel(record: false);
        forwarder.SetChannel(viewer, channel, Start);
        var patient = new Patient(sender.Id);
        var frames = Enumerable.Range(0, 200).Select(i => patient.Frame((uint)(i * 100)).ToArray()).ToArray();
        for (var i = 0; i < 20; i++) forwarder.OnMessage(sender, frames[i], false, Ms(i * 100));
        // Three blocks of 60 frames: a per-frame allocation shows in each of them.
        var fewest = Allocations.FewestBytes(3, block =>
        {
            for (var i = 20 + block * 60; i < 80 + block * 60; i++) forwarder.OnMessage(sender, frames[i], false, Ms(i * 100));
        });
        Assert.Equal(0, fewest);
        Assert.Equal(200, channel.MessagesSent);
    }
}
