using System.Collections.Concurrent;
using TeleRehab.Media.Sctp;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.Support;

/// <summary>A data channel handler for tests: records what the transport reports (copies, thread-safe to read), and
/// optionally echoes every message like the server's echo.</summary>
public sealed class DataChannelRecorder(bool echo = false) : IDataChannelHandler
{
    public sealed record Message(ushort StreamId, string Label, byte[] Data, bool IsText);

    public ConcurrentQueue<Message> Messages { get; } = new();
    public ConcurrentQueue<DataChannel> Opened { get; } = new();
    public ConcurrentQueue<DataChannel> Closed { get; } = new();
    public volatile DataChannelTransport? Transport;
    private int _connected;

    public bool IsConnected => Volatile.Read(ref _connected) != 0;

    public void OnConnected(DataChannelTransport transport)
    {
        Transport = transport;
        Volatile.Write(ref _connected, 1);
    }

    public void OnChannelOpened(DataChannelTransport transport, DataChannel channel)
    {
        Transport = transport;
        Opened.Enqueue(channel);
    }

    public void OnMessage(DataChannelTransport transport, DataChannel channel, ReadOnlySpan<byte> data, bool isText)
    {
        Messages.Enqueue(new Message(channel.StreamId, channel.Label, data.ToArray(), isText));
        if (echo) transport.Send(channel.StreamId, data, isText);
    }

    public void OnChannelClosed(DataChannelTransport transport, DataChannel channel) => Closed.Enqueue(channel);

    /// <summary>Messages of the sizes the interop tests use (1 B to 64 KiB, several of each, distinct content), every
    /// other one text (printable ASCII, so UTF-8 keeps the size).</summary>
    public static List<(byte[] Data, bool IsText)> TestMessages(int perSize = 3)
    {
        int[] sizes = [1, 100, 1200, 1300, 16 * 1024, 64 * 1024];
        var list = new List<(byte[], bool)>();
        var n = 0;
        foreach (var size in sizes)
        {
            for (var k = 0; k < perSize; k++, n++)
            {
                var data = new byte[size];
                bool text = n % 2 == 0;
                for (var i = 0; i < size; i++) data[i] = text ? (byte)('a' + (i * 7 + n) % 26) : (byte)(i * 31 + n * 17);
                list.Add((data, text));
            }
        }
        return list;
    }
}
