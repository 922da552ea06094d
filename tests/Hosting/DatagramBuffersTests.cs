using TeleRehab.Media.Hosting;

namespace TeleRehab.Media.Tests.Hosting;

/// <summary>The receive buffers' pool (<see cref="DatagramBuffers"/>): a buffer rented on one thread and returned on
/// another, as every received datagram's is, comes back to be rented again, with no allocation once the pool holds it;
/// buffers of another length are not kept.</summary>
[Collection(HostingCollection.Name)]
public sealed class DatagramBuffersTests
{
    [Fact]
    public void Buffers_returned_on_another_thread_are_rented_again_without_allocating()
    {
        // Warm the pool, then rent on this thread and return on another, as the receive loop and a worker do.
        var warm = Enumerable.Range(0, 64).Select(_ => DatagramBuffers.Rent()).ToArray();
        Assert.All(warm, buffer => Assert.Equal(DatagramBuffers.Size, buffer.Length));
        foreach (var buffer in warm) DatagramBuffers.Return(buffer);

        var handedOver = new byte[32][];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < handedOver.Length; i++) handedOver[i] = DatagramBuffers.Rent();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        var returner = new Thread(() =>
        {
            foreach (var buffer in handedOver) DatagramBuffers.Return(buffer);
        });
        returner.Start();
        returner.Join();

        // What the other thread gave back is rented again. Other tests' servers share the pool (a queue: first returned,
        // first rented), so this rents until it meets one of its own, at most the whole pool.
        var again = new List<byte[]>();
        var found = false;
        for (var i = 0; i < DatagramBuffers.MaxPooled + handedOver.Length && !found; i++)
        {
            var buffer = DatagramBuffers.Rent();
            again.Add(buffer);
            found = handedOver.Contains(buffer);
        }
        foreach (var buffer in again) DatagramBuffers.Return(buffer);
        Assert.True(found, "no buffer given back on the other thread was rented again");
    }

    [Fact]
    public void A_buffer_of_another_length_is_not_kept()
    {
        var odd = new byte[DatagramBuffers.Size + 1];
        DatagramBuffers.Return(odd);
        var rented = Enumerable.Range(0, DatagramBuffers.Pooled + 1).Select(_ => DatagramBuffers.Rent()).ToArray();
        Assert.DoesNotContain(rented, buffer => ReferenceEquals(buffer, odd));
        Assert.All(rented, buffer => Assert.Equal(DatagramBuffers.Size, buffer.Length));
        foreach (var buffer in rented) DatagramBuffers.Return(buffer);
    }
}
