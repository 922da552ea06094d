using TeleRehab.Media.Bwe;
using TeleRehab.Media.Rtcp;

namespace TeleRehab.Media.Tests.Bwe;

public class TransportFeedbackRecorderTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Writes every message that is due at <paramref name="now"/> and decodes them.</summary>
    private static List<(int Count, List<TwccPacketStatus> Statuses)> Drain(TransportFeedbackRecorder recorder, TimeSpan now)
    {
        var messages = new List<(int, List<TwccPacketStatus>)>();
        var buffer = new byte[1500];
        int length;
        while ((length = recorder.WriteFeedback(now, buffer)) > 0)
        {
            Assert.True(TransportWideFeedback.TryParse(buffer.AsSpan(0, length), out var feedback));
            var statuses = new List<TwccPacketStatus>();
            foreach (var status in feedback) statuses.Add(status);
            messages.Add((feedback.FeedbackPacketCount, statuses));
        }
        return messages;
    }

    [Fact]
    public void Reports_every_arrival_with_its_time_and_losses_as_not_received()
    {
        var recorder = new TransportFeedbackRecorder(0x1234) { MediaSsrc = 0x5678 };
        var start = Ms(10_000);
        ushort[] arrived = [100, 101, 103, 104, 107];
        for (var i = 0; i < arrived.Length; i++) recorder.OnPacket(arrived[i], 1200, start + Ms(i * 5));

        Assert.Empty(Drain(recorder, start + Ms(30))); // not due yet
        var message = Assert.Single(Drain(recorder, start + Ms(100)));
        Assert.Equal(0, message.Count);
        Assert.Equal(Enumerable.Range(100, 8).Select(s => (ushort)s), message.Statuses.Select(s => s.SequenceNumber));
        Assert.Equal([true, true, false, true, true, false, false, true], message.Statuses.Select(s => s.Received));
        var times = message.Statuses.Where(s => s.Received).Select(s => s.ArrivalTime - message.Statuses[0].ArrivalTime).ToList();
        Assert.Equal([Ms(0), Ms(5), Ms(10), Ms(15), Ms(20)], times);
        Assert.Null(recorder.NextTimeout); // everything reported
    }

    [Fact]
    public void Next_message_continues_after_the_last_reported_packet()
    {
        var recorder = new TransportFeedbackRecorder(1);
        for (ushort s = 0; s < 10; s++) recorder.OnPacket(s, 1000, Ms(s * 10));
        var first = Assert.Single(Drain(recorder, Ms(200)));
        for (ushort s = 12; s < 15; s++) recorder.OnPacket(s, 1000, Ms(200 + s));
        Assert.NotNull(recorder.NextTimeout);
        var second = Assert.Single(Drain(recorder, recorder.NextTimeout!.Value));
        Assert.Equal(1, second.Count);
        Assert.Equal(9, first.Statuses[^1].SequenceNumber);
        // 10 and 11 never came: reported as lost at the start of the next message.
        Assert.Equal([10, 11, 12, 13, 14], second.Statuses.Select(s => (int)s.SequenceNumber));
        Assert.Equal([false, false, true, true, true], second.Statuses.Select(s => s.Received));
    }

    [Fact]
    public void A_late_packet_is_reported_even_after_its_neighbours_were()
    {
        var recorder = new TransportFeedbackRecorder(1);
        recorder.OnPacket(1, 1000, Ms(0));
        recorder.OnPacket(3, 1000, Ms(2));
        Assert.Single(Drain(recorder, Ms(100)));
        recorder.OnPacket(2, 1000, Ms(120)); // reordered behind 3, after 3 was reported
        recorder.OnPacket(2, 1000, Ms(121)); // duplicate: keeps the first arrival
        var late = Assert.Single(Drain(recorder, recorder.NextTimeout!.Value));
        var status = late.Statuses.Single(s => s.SequenceNumber == 2);
        Assert.True(status.Received);
        Assert.Equal(Ms(120), status.ArrivalTime);
        Assert.Equal(Ms(2), late.Statuses.Single(s => s.SequenceNumber == 3).ArrivalTime);
    }

    [Fact]
    public void Sequence_numbers_wrap_around()
    {
        var recorder = new TransportFeedbackRecorder(1);
        for (var i = 0; i < 20; i++) recorder.OnPacket((ushort)(65530 + i), 1000, Ms(i));
        var statuses = Drain(recorder, Ms(200)).SelectMany(m => m.Statuses).ToList();
        Assert.Equal(20, statuses.Count);
        Assert.All(statuses, s => Assert.True(s.Received));
        Assert.Equal(65530, statuses[0].SequenceNumber);
        Assert.Equal(13, statuses[^1].SequenceNumber);
    }

    [Fact]
    public void Many_packets_are_split_into_messages_that_each_fit_a_datagram()
    {
        var recorder = new TransportFeedbackRecorder(1);
        for (var i = 0; i < 1000; i++) recorder.OnPacket((ushort)i, 1200, Ms(i * 0.1));
        var buffer = new byte[1500];
        var lengths = new List<int>();
        int length;
        while ((length = recorder.WriteFeedback(Ms(150), buffer)) > 0) lengths.Add(length);
        Assert.Equal(3, lengths.Count);
        Assert.All(lengths, l => Assert.InRange(l, 20, 1200));
        Assert.Null(recorder.NextTimeout);
    }

    [Fact]
    public void A_pause_longer_than_a_delta_can_express_starts_a_new_message()
    {
        var recorder = new TransportFeedbackRecorder(1);
        recorder.OnPacket(1, 1000, Ms(0));
        recorder.OnPacket(2, 1000, Ms(9_000)); // 9 s later: beyond a 16-bit delta of 250 µs ticks (8.19 s)
        var messages = Drain(recorder, Ms(9_100));
        Assert.Equal(2, messages.Count);
        Assert.Equal([1], messages[0].Statuses.Select(s => (int)s.SequenceNumber));
        Assert.Equal([2], messages[1].Statuses.Select(s => (int)s.SequenceNumber));
    }

    [Fact]
    public void Interval_keeps_feedback_a_small_share_of_the_received_rate()
    {
        // 2 Mbit/s: feedback every 50 ms (the shortest).
        var fast = new TransportFeedbackRecorder(1);
        for (var i = 0; i <= 250; i++) fast.OnPacket((ushort)i, 1000, Ms(i * 4));
        Assert.Equal(TransportFeedbackRecorder.MinInterval, fast.Interval);

        // 24 kbit/s (GPRS-class audio): the interval stretches so feedback stays near 5 % of it, at most 250 ms.
        var slow = new TransportFeedbackRecorder(1);
        for (var i = 0; i <= 25; i++) slow.OnPacket((ushort)i, 120, Ms(i * 40));
        Assert.Equal(TransportFeedbackRecorder.MaxInterval, slow.Interval);

        // 200 kbit/s: in between (100 B of feedback at 5 % of 200 kbit/s = 80 ms).
        var mid = new TransportFeedbackRecorder(1);
        for (var i = 0; i <= 50; i++) mid.OnPacket((ushort)i, 500, Ms(i * 20));
        Assert.InRange(mid.Interval.TotalMilliseconds, 70, 90);
    }

    [Fact]
    public void A_jump_beyond_the_history_forgets_what_is_too_old_to_report()
    {
        var recorder = new TransportFeedbackRecorder(1);
        recorder.OnPacket(0, 1000, Ms(0));
        recorder.OnPacket(20_000, 1000, Ms(1));
        var statuses = Drain(recorder, Ms(100)).SelectMany(m => m.Statuses).ToList();
        Assert.Contains(statuses, s => s.SequenceNumber == 20_000 && s.Received);
        Assert.True(statuses.Count <= TransportFeedbackRecorder.Capacity);
        Assert.Null(recorder.NextTimeout);
    }
}
