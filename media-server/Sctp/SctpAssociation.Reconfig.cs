using System.Buffers.Binary;

namespace TeleRehab.Media.Sctp;

/// <summary>
/// Stream reconfiguration (RFC 6525): our Outgoing SSN Reset Requests, and the peer's, which reset
/// our incoming streams. WebRTC closes a data channel this way (RFC 8831 §6.7).
/// </summary>
public sealed partial class SctpAssociation
{
    private readonly SortedSet<ushort> _resetRequested = new();
    private ushort[]? _resetInFlight;
    private uint _resetInFlightSeq;
    private uint _nextReconfigRequestSeq;
    private TimeSpan _reconfigRto;

    private uint _peerReconfigExpectedSeq;
    private ReconfigurationResult _lastPeerReconfigResult = ReconfigurationResult.SuccessNothingToDo;
    private DeferredReset? _deferredReset;

    private sealed record DeferredReset(uint Seq, long LastTsn, ushort[] Streams);

    /// <summary>
    /// Asks the peer to reset these outgoing streams (RFC 6525 §5.1.2). The request goes out once no DATA for
    /// them is queued or unacknowledged, one request at a time (§5.1.1); new messages on those streams wait
    /// until the peer answers. <see cref="SctpOutgoingStreamsReset"/> reports completion.
    /// </summary>
    public void ResetStreams(ReadOnlySpan<ushort> outgoingStreams, TimeSpan now)
    {
        _now = now;
        if (_terminated || State is not (SctpAssociationState.Established or SctpAssociationState.CookieWait or SctpAssociationState.CookieEchoed))
            return;
        foreach (var s in outgoingStreams) _resetRequested.Add(s);
        TryStartStreamReset(now);
    }

    private void TryStartStreamReset(TimeSpan now)
    {
        if (_resetInFlight is not null || _resetRequested.Count == 0 || State != SctpAssociationState.Established) return;
        if (!_peerReConfig)
        {
            var failed = new ushort[_resetRequested.Count];
            _resetRequested.CopyTo(failed);
            _resetRequested.Clear();
            _events.Enqueue(new SctpStreamResetFailed(failed, ReconfigurationResult.Denied));
            return;
        }
        foreach (var m in _sendQueue)
        {
            if (_resetRequested.Contains(m.StreamId)) return;
        }
        foreach (var c in _outstanding)
        {
            if (_resetRequested.Contains(c.Message.StreamId)) return;
        }
        // One request must fit in a packet: common header, chunk header, the parameter's 16 bytes, 2 per stream.
        int maxStreams = (_mtu - SctpPacket.CommonHeaderSize - SctpChunk.HeaderSize - OutgoingSsnResetRequest.FixedSize) / 2;
        _resetInFlight = new ushort[Math.Min(_resetRequested.Count, maxStreams)];
        _resetRequested.CopyTo(_resetInFlight, 0, _resetInFlight.Length);
        foreach (var id in _resetInFlight) _resetRequested.Remove(id);
        _resetInFlightSeq = _nextReconfigRequestSeq++;
        _reconfigRto = _rto;
        QueueResetRequest();
        _reconfigTimer = now + _reconfigRto;
    }

    private void QueueResetRequest()
    {
        var streams = new SctpStreamId[_resetInFlight!.Length];
        for (int i = 0; i < streams.Length; i++) streams[i] = new SctpStreamId(_resetInFlight[i]);
        // The Response Sequence Number is the last request we answered (the next expected one minus 1).
        var request = new OutgoingSsnResetRequest(_resetInFlightSeq, _peerReconfigExpectedSeq - 1, (uint)(_nextTsn - 1), streams);
        var parameter = new byte[request.GetSerializedLength()];
        request.WriteTo(parameter);
        QueueControl(new ReConfig(parameter));
    }

    private void OnReconfigTimer(TimeSpan now)
    {
        _reconfigTimer = null;
        if (_resetInFlight is null || State != SctpAssociationState.Established) return;
        _errorCount++;
        if (_errorCount > _options.MaxRetransmissions)
        {
            Terminate("stream reset not answered", graceful: false);
            return;
        }
        _reconfigRto = Min(_reconfigRto * 2, _options.RtoMax);
        QueueResetRequest(); // §5.1.1: same sequence number on retransmission
        _reconfigTimer = now + _reconfigRto;
    }

    private void HandleReConfig(SctpChunk chunk, TimeSpan now)
    {
        if (!ReConfig.TryParse(chunk, out var reconfig) || State is not (SctpAssociationState.Established
                or SctpAssociationState.ShutdownPending or SctpAssociationState.ShutdownSent or SctpAssociationState.ShutdownReceived))
        {
            Counters.ChunksDropped++;
            return;
        }
        var reader = new SctpTlvReader(reconfig.Parameters);
        while (reader.TryReadNext(out var parameter))
        {
            switch ((SctpParameterType)parameter.Type)
            {
                case SctpParameterType.OutgoingSsnResetRequest:
                    if (OutgoingSsnResetRequest.TryParse(parameter, out var request)) HandlePeerResetRequest(request, now);
                    else Counters.ChunksDropped++;
                    break;
                case SctpParameterType.ReconfigurationResponse:
                    if (ReconfigurationResponse.TryParse(parameter, out var response)) HandleResetResponse(response, now);
                    else Counters.ChunksDropped++;
                    break;
                default:
                    // Incoming SSN, SSN/TSN and add-streams requests are not supported: deny them (§5.2).
                    if (parameter.Value.Length >= 4)
                        QueueReconfigResponse(BinaryPrimitives.ReadUInt32BigEndian(parameter.Value), ReconfigurationResult.Denied);
                    else Counters.ChunksDropped++;
                    break;
            }
        }
    }

    /// <summary>
    /// RFC 6525 §5.2.2: reset once every TSN up to the sender's last assigned one has arrived, answering
    /// "In progress" until then; §5.2.1: sequence numbers detect retransmissions and stale requests.
    /// </summary>
    private void HandlePeerResetRequest(OutgoingSsnResetRequest request, TimeSpan now)
    {
        uint seq = request.RequestSequenceNumber;
        ReconfigurationResult result;
        if (seq == _peerReconfigExpectedSeq)
        {
            var streams = new ushort[request.Streams.Count];
            for (int i = 0; i < streams.Length; i++) streams[i] = request.Streams[i].Value;
            if (streams.Length == 0)
            {
                // No streams listed means all of them (§4.1).
                streams = new ushort[_inbound.Count];
                _inbound.Keys.CopyTo(streams, 0);
            }
            long lastTsn = Unwrap(request.SendersLastAssignedTsn, _peerCumTsn);
            if (lastTsn <= _peerCumTsn)
            {
                PerformIncomingReset(streams);
                _peerReconfigExpectedSeq++;
                _deferredReset = null;
                result = ReconfigurationResult.SuccessPerformed;
            }
            else
            {
                _deferredReset = new DeferredReset(seq, lastTsn, streams);
                result = ReconfigurationResult.InProgress;
            }
            _lastPeerReconfigResult = result;
        }
        else if (seq == _peerReconfigExpectedSeq - 1)
        {
            result = _lastPeerReconfigResult; // a retransmission of the request we answered last
        }
        else
        {
            result = ReconfigurationResult.ErrorBadSequenceNumber;
        }
        QueueReconfigResponse(seq, result);
        _ = now;
    }

    private void CheckDeferredReset(TimeSpan now)
    {
        if (_deferredReset is not { } deferred || deferred.LastTsn > _peerCumTsn) return;
        _deferredReset = null;
        PerformIncomingReset(deferred.Streams);
        _peerReconfigExpectedSeq++;
        _lastPeerReconfigResult = ReconfigurationResult.SuccessPerformed;
        // Answer now rather than waiting for the peer's retransmission.
        QueueReconfigResponse(deferred.Seq, ReconfigurationResult.SuccessPerformed);
        _ = now;
    }

    private void PerformIncomingReset(ushort[] streams)
    {
        foreach (var id in streams)
        {
            if (!_inbound.TryGetValue(id, out var stream)) continue;
            stream.NextSsn = 0;
            // Messages buffered under old SSNs can no longer be delivered in order; new ones start at 0.
            foreach (var ready in stream.Ready.Values) _receiveBuffered -= ready.Data.Length;
            stream.Ready.Clear();
        }
        _events.Enqueue(new SctpStreamsReset(streams));
    }

    private void QueueReconfigResponse(uint seq, ReconfigurationResult result)
    {
        var response = new ReconfigurationResponse(seq, result);
        var parameter = new byte[response.GetSerializedLength()];
        response.WriteTo(parameter);
        QueueControl(new ReConfig(parameter));
    }

    private void HandleResetResponse(ReconfigurationResponse response, TimeSpan now)
    {
        if (_resetInFlight is null || response.ResponseSequenceNumber != _resetInFlightSeq) return;
        switch (response.Result)
        {
            case ReconfigurationResult.SuccessPerformed:
            case ReconfigurationResult.SuccessNothingToDo:
                // §5.2.7: the peer reset them; our SSNs for these streams restart at 0.
                foreach (var id in _resetInFlight) _nextOutgoingSsn.Remove(id);
                _events.Enqueue(new SctpOutgoingStreamsReset(_resetInFlight));
                break;
            case ReconfigurationResult.InProgress:
                // The peer waits for DATA still in flight; ask again after a timeout (§5.2.7).
                _reconfigTimer = now + _reconfigRto;
                return;
            default:
                _events.Enqueue(new SctpStreamResetFailed(_resetInFlight, response.Result));
                break;
        }
        _resetInFlight = null;
        _reconfigTimer = null;
        _errorCount = 0;
        TryStartStreamReset(now);
    }
}
