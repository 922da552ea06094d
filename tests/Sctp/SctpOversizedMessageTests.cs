using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

/// <summary>A message longer than the receiver's MaxMessageSize (RFC 8841 §6) is dropped while it arrives, fragments
/// and all: the receiver never holds more than the limit of it, its SSN is used up so later ordered messages on the
/// stream still arrive, and the association goes on. Before, such a message was reassembled up to twice the receive
/// window and then stalled the association for good when it was longer than that.</summary>
public sealed class SctpOversizedMessageTests
{
    private static SctpTestNetwork Network(int seed) => new(seed,
        new SctpAssociationOptions { MaxMessageSize = 4 * 1024 * 1024, SendBufferSize = 8 * 1024 * 1024, ReceiveWindow = 4 * 1024 * 1024 },
        new SctpAssociationOptions { MaxMessageSize = 64 * 1024, ReceiveWindow = 128 * 1024 });

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(false, 0.05)]
    public void A_message_over_the_limit_is_dropped_and_later_messages_on_its_stream_arrive(bool unordered, double loss)
    {
        var net = Network(41);
        Assert.True(net.Connect());
        net.LossRate = loss;
        var huge = new byte[3 * 1024 * 1024];
        new Random(3).NextBytes(huge);
        var options = new SctpSendOptions(Unordered: unordered);
        Assert.Equal(SctpSendResult.Ok, net.A.Send(1, 53, "before"u8, options, net.Now));
        Assert.Equal(SctpSendResult.Ok, net.A.Send(1, 53, huge, options, net.Now));
        Assert.Equal(SctpSendResult.Ok, net.A.Send(1, 53, "after"u8, options, net.Now));
        Assert.Equal(SctpSendResult.Ok, net.A.Send(1, 53, new byte[64 * 1024], options, net.Now)); // exactly the limit
        var maxHeld = 0;
        Assert.True(net.RunUntil(() =>
        {
            maxHeld = Math.Max(maxHeld, net.B.ReceiveBuffered);
            return net.MessagesAtB.Count() == 3 && net.A.BufferedAmount == 0;
        }, TimeSpan.FromSeconds(120)), $"B got {net.MessagesAtB.Count()} messages, A still holds {net.A.BufferedAmount} bytes");
        var got = net.MessagesAtB.Select(m => m.Payload.Length).ToList();
        if (unordered) got.Sort();
        Assert.Equal(unordered ? [5, 6, 65536] : [6, 5, 65536], got);
        Assert.Equal(1, net.B.Counters.MessagesDroppedTooLarge);
        Assert.Equal(0, net.B.ReceiveBuffered);
        Assert.True(maxHeld <= 2 * 64 * 1024 + 2400, $"B held {maxHeld} bytes of the oversized message");
        Assert.Equal(SctpAssociationState.Established, net.B.State);
    }
}
