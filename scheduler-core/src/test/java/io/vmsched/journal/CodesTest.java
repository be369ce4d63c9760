package io.vmsched.journal;

import io.vmsched.balance.DecisionOutcome;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The codes journal records store are part of the on-disk schema: each is pinned here, so renumbering
 * one (or reordering the constants of an enum that numbered by ordinal) fails.
 */
class CodesTest
{
    @Test
    void abortReasonCodesArePinned()
    {
        final Map<AbortReason, Integer> pinned = new LinkedHashMap<>();
        pinned.put(AbortReason.UNKNOWN, 0);
        pinned.put(AbortReason.SOURCE_FAILED_TO_STOP, 1);
        pinned.put(AbortReason.SOURCE_FAILED_BEFORE_TRANSFER, 2);
        pinned.put(AbortReason.TRANSFER_NOT_QUEUED, 3);
        pinned.put(AbortReason.TRANSFER_NOT_SENT, 4);
        pinned.put(AbortReason.TARGET_DID_NOT_ACTIVATE, 5);
        pinned.put(AbortReason.TARGET_FAILED_BEFORE_ACTIVATING, 6);
        pinned.put(AbortReason.RESOLVED_BEFORE_TRANSFER, 7);
        pinned.put(AbortReason.RECOVERY_TARGET_NEVER_ACTIVATED, 8);
        pinned.put(AbortReason.RECOVERY_RECEIVED_NOT_ACTIVATED, 9);
        pinned.put(AbortReason.REGISTRY_REFUSED_MOVE, 10);
        pinned.put(AbortReason.RECLAIMED, 11);
        pinned.put(AbortReason.PLACEMENT_REFUSED, 12);
        assertEquals(AbortReason.values().length, pinned.size(), "a new reason needs its code pinned here");
        final Set<Integer> codes = new HashSet<>();
        for (final AbortReason reason : AbortReason.values())
        {
            assertEquals(pinned.get(reason), reason.code(), reason.name());
            assertTrue(codes.add(reason.code()), "unique: " + reason);
            assertSame(reason, AbortReason.of(reason.code()));
        }
        assertSame(AbortReason.UNKNOWN, AbortReason.of(200), "a newer writer's code");
        assertSame(AbortReason.UNKNOWN, AbortReason.of(-1));
        assertEquals("target-did-not-activate", AbortReason.TARGET_DID_NOT_ACTIVATE.label());
    }

    @Test
    void decisionOutcomeCodesArePinned()
    {
        final Map<DecisionOutcome, Integer> pinned = new LinkedHashMap<>();
        pinned.put(DecisionOutcome.UNKNOWN, 0);
        pinned.put(DecisionOutcome.MOVED, 1);
        pinned.put(DecisionOutcome.DRY_RUN, 2);
        pinned.put(DecisionOutcome.WITHIN_THRESHOLD, 3);
        pinned.put(DecisionOutcome.SOURCE_NOT_ABOVE_MEAN, 4);
        pinned.put(DecisionOutcome.CONCURRENCY_LIMIT, 5);
        pinned.put(DecisionOutcome.NO_CANDIDATE, 6);
        pinned.put(DecisionOutcome.CAPPED_AT_MEAN, 7);
        pinned.put(DecisionOutcome.ALL_BLOCKED, 8);
        pinned.put(DecisionOutcome.NO_GAIN, 9);
        assertEquals(DecisionOutcome.values().length, pinned.size(), "a new outcome needs its code pinned here");
        final Set<Integer> codes = new HashSet<>();
        for (final DecisionOutcome outcome : DecisionOutcome.values())
        {
            assertEquals(pinned.get(outcome), outcome.code(), outcome.name());
            assertTrue(codes.add(outcome.code()), "unique: " + outcome);
            assertSame(outcome, DecisionOutcome.of(outcome.code()));
        }
        assertSame(DecisionOutcome.UNKNOWN, DecisionOutcome.of(77));
        assertEquals("within-threshold", DecisionOutcome.WITHIN_THRESHOLD.label());
    }

    @Test
    void recordTypeCodesArePinned()
    {
        final RecordType[] inCodeOrder = { RecordType.HOST_STARTED, RecordType.ADMITTED, RecordType.REMOVED,
            RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.RECEIVED, RecordType.ACTIVATED,
            RecordType.COMMITTED, RecordType.ABORTED, RecordType.DECISION, RecordType.LOAD_SNAPSHOT, RecordType.RESOLVED,
            RecordType.WATERMARK, RecordType.PLACEMENT, RecordType.SERVICE_STATUS, RecordType.BALLOON_REQUESTED,
            RecordType.BALLOON_RESULT };
        assertEquals(RecordType.values().length, inCodeOrder.length);
        for (int i = 0; i < inCodeOrder.length; i++)
        {
            assertEquals(i + 1, inCodeOrder[i].code(), inCodeOrder[i].name());
        }
    }

    @Test
    void balloonOutcomeCodesArePinned()
    {
        final io.vmsched.balloon.BalloonResult.Outcome[] inCodeOrder = { io.vmsched.balloon.BalloonResult.Outcome.MET,
            io.vmsched.balloon.BalloonResult.Outcome.SHORT, io.vmsched.balloon.BalloonResult.Outcome.REFUSED,
            io.vmsched.balloon.BalloonResult.Outcome.NO_BALLOON, io.vmsched.balloon.BalloonResult.Outcome.TIMED_OUT,
            io.vmsched.balloon.BalloonResult.Outcome.FAILED };
        assertEquals(io.vmsched.balloon.BalloonResult.Outcome.values().length, inCodeOrder.length);
        for (int i = 0; i < inCodeOrder.length; i++)
        {
            assertEquals(i + 1, inCodeOrder[i].code(), inCodeOrder[i].name());
            assertSame(inCodeOrder[i], io.vmsched.balloon.BalloonResult.Outcome.of(i + 1));
        }
        assertNull(io.vmsched.balloon.BalloonResult.Outcome.of(0), "0 is a request's: no outcome");
        assertNull(io.vmsched.balloon.BalloonResult.Outcome.of(99));
    }
}
