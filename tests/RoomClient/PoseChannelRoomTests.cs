using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using TeleRehab.LoadTests;
using TeleRehab.Media.Pose;
using TeleRehab.Media.Rooms;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>Pose keypoints through a room with the C# client: the patient's "pose" channel reaches the therapist's
/// through the SFU's forwarder, and the patient gets its own pose only once it asks (hub <c>SetOwnPoseView</c>).</summary>
[Collection(RoomClientCollection.Name)]
public sealed class PoseChannelRoomTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private static async Task<(DataChannelTransport Transport, DataChannelRecorder Recorder, ushort Stream)> OpenPoseAsync(SessionClient client)
    {
        var transport = client.Media!.Connection!.DataChannels!;
        Assert.True(await RoomTestKit.WaitUntilAsync(() => transport.IsConnected, RoomTestKit.Generous), $"{client.Name}: no association");
        var recorder = new DataChannelRecorder();
        var opened = new TaskCompletionSource<ushort>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Media.Invoke(() =>
        {
            transport.Handler = recorder;
            opened.TrySetResult(transport.OpenChannel(RoomDataChannels.PoseLabel)!.StreamId);
        });
        var stream = await opened.Task.WaitAsync(RoomTestKit.Generous);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => !recorder.Opened.IsEmpty, RoomTestKit.Generous), $"{client.Name}: the pose channel did not open");
        return (transport, recorder, stream);
    }

    private static (string Sender, KeypointFrame Frame) Parse(DataChannelRecorder.Message message, KeypointDecoder decoder)
    {
        var data = message.Data;
        var sender = Encoding.UTF8.GetString(data, 1, data[0]);
        Assert.True(decoder.TryDecode(data.AsSpan(1 + data[0]), out var frame, out var status), $"status {status}");
        return (sender, frame);
    }

    [Fact]
    public async Task The_patients_keypoints_reach_the_therapist_and_the_patient_itself_only_when_it_asks()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("pose", new SessionClientOptions { DataChannel = true });
        var (_, therapistRecorder, _) = await OpenPoseAsync(therapist);
        var (patientTransport, patientRecorder, patientStream) = await OpenPoseAsync(patient);

        var encoder = new KeypointEncoder();
        var buffer = new byte[KeypointFormat.MaxFrameLength];
        async Task SendAsync(int count, int first)
        {
            for (var i = first; i < first + count; i++)
            {
                var frame = new KeypointFrame { TimestampMs = (uint)(i * 100) };
                for (var l = 0; l < KeypointFormat.LandmarkCount; l++) frame.Landmarks[l] = new Landmark(0.3f + l * 0.01f + i * 0.002f, 0.2f + l * 0.02f, 0, 0.9f);
                var bytes = buffer.AsSpan(0, encoder.Encode(frame, buffer)).ToArray();
                patient.Media!.Invoke(() => patientTransport.Send(patientStream, bytes, isText: false));
                await Task.Delay(100);
            }
        }

        await SendAsync(10, 0);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => therapistRecorder.Messages.Count >= 9, RoomTestKit.Generous),
            $"the therapist received {therapistRecorder.Messages.Count} of 10 frames");
        var decoder = new KeypointDecoder();
        var received = therapistRecorder.Messages.Select(m => Parse(m, decoder)).ToList();
        Assert.All(received, r => Assert.Equal(patient.ParticipantId, r.Sender));
        var timestamps = received.Select(r => r.Frame.TimestampMs).ToList();
        Assert.Equal(timestamps.Order().ToList(), timestamps);
        Assert.Empty(patientRecorder.Messages);

        await patient.Hub.InvokeAsync("SetOwnPoseView", true);
        await SendAsync(5, 10);
        Assert.True(await RoomTestKit.WaitUntilAsync(() => patientRecorder.Messages.Count >= 4, RoomTestKit.Generous),
            $"the patient received {patientRecorder.Messages.Count} of its own 5 frames");
        var own = new KeypointDecoder();
        Assert.All(patientRecorder.Messages, m => Assert.Equal(patient.ParticipantId, Parse(m, own).Sender));
        Assert.Empty(patient.Errors);
        Assert.Empty(therapist.Errors);
    }
}
