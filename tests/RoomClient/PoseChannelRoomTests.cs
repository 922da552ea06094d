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
    /// <summary>
    /// A patient floods its pose channel (thousands of frames back to back, garbage among them) while another
    /// session's media and its own therapist's audio and video go on: the flood is capped and counted, malformed frames
    /// are dropped, the therapist still gets the newest frames at no more than the per-receiver cap, and nobody's media
    /// stops.
    /// </summary>
    [Fact]
    public async Task A_flood_of_pose_frames_is_capped_and_counted_and_both_rooms_media_keeps_flowing()
    {
        var options = new SessionClientOptions { DataChannel = true };
        var (floodSession, therapist, patient) = await _kit.StartPairAsync("flood", options);
        var (_, otherTherapist, otherPatient) = await _kit.StartPairAsync("calm", options);
        await RoomTestKit.WaitReceivingAsync(otherTherapist, otherPatient.ParticipantId);
        await RoomTestKit.WaitReceivingAsync(therapist, patient.ParticipantId);
        var (_, therapistRecorder, _) = await OpenPoseAsync(therapist);
        var (patientTransport, _, patientStream) = await OpenPoseAsync(patient);

        var encoder = new KeypointEncoder();
        var buffer = new byte[KeypointFormat.MaxFrameLength];
        var garbage = new byte[] { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };
        var sent = 0;
        var flooding = Task.Run(async () =>
        {
            for (var burst = 0; burst < 40; burst++)
            {
                var frames = new List<byte[]>();
                for (var i = 0; i < 50; i++)
                {
                    var n = burst * 50 + i;
                    var frame = new KeypointFrame { TimestampMs = (uint)n };
                    for (var l = 0; l < KeypointFormat.LandmarkCount; l++) frame.Landmarks[l] = new Landmark(0.3f + l * 0.01f, 0.2f + (n % 50) * 0.01f, 0, 0.9f);
                    frames.Add(i % 10 == 9 ? garbage : buffer.AsSpan(0, encoder.Encode(frame, buffer)).ToArray());
                }
                patient.Media!.Invoke(() =>
                {
                    foreach (var frame in frames) patientTransport.Send(patientStream, frame, isText: false);
                });
                sent += frames.Count;
                await Task.Delay(50);
            }
        });

        // While the flood goes on, both sessions keep their media.
        await RoomTestKit.AssertKeepsReceivingAsync(otherTherapist, otherPatient.ParticipantId, "the other session during the flood");
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "the flooding patient's own media");
        await flooding.WaitAsync(RoomTestKit.Generous);
        await RoomTestKit.AssertKeepsReceivingAsync(otherTherapist, otherPatient.ParticipantId, "the other session after the flood");

        var room = _kit.Rooms.Rooms.Single(r => r.Id == floodSession);
        long flooded = 0, malformed = 0, received = 0;
        Assert.True(await RoomTestKit.WaitUntilAsync(async () =>
        {
            (flooded, malformed, received) = await room.Run(() => (room.Pose.FloodedFrames, room.Pose.MalformedFrames, room.Pose.FramesReceived));
            return received + flooded >= sent * 9 / 10;
        }, RoomTestKit.Generous), $"the forwarder saw {received} frames and {flooded} flooded of {sent} sent");
        _kit.Log($"sent {sent}, flooded {flooded}, malformed {malformed}, received {received}, therapist got {therapistRecorder.Messages.Count}");
        Assert.True(flooded > sent / 2, $"only {flooded} of {sent} frames counted as a flood");
        Assert.True(malformed > 0, "no garbage frame was counted as malformed");
        // The therapist gets frames, newest first, never more than the cap allows (15 a second, a burst of 2 more).
        var decoder = new KeypointDecoder();
        var got = therapistRecorder.Messages.Select(m => Parse(m, decoder).Frame.TimestampMs).ToList();
        Assert.NotEmpty(got);
        Assert.Equal(got.Order().ToList(), got);
        Assert.True(got.Count <= 2 + 15 * 10, $"the therapist got {got.Count} frames in a flood of a few seconds");
        Assert.Empty(otherTherapist.Errors);
        Assert.Empty(otherPatient.Errors);

        // The operator sees the same outcomes in /metrics (summed over rooms; this is the only flooding room).
        using var http = _kit.Host.CreateClient();
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Equal(flooded, MetricValue(metrics, "telerehab_pose_frames_total{outcome=\"flooded\"}"));
        Assert.Equal(malformed, MetricValue(metrics, "telerehab_pose_frames_total{outcome=\"malformed\"}"));
        Assert.True(MetricValue(metrics, "telerehab_pose_frames_total{outcome=\"forwarded\"}") >= got.Count);
    }

    private static long MetricValue(string metrics, string series)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"{series} is not in /metrics");
        return (long)double.Parse(line![(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
