package io.vmsched.balloon;

/**
 * What a guest answers to a {@link BalloonRequest}: what it holds now and, when that is not what was asked,
 * why it stopped short. Immutable.
 *
 * @param requestId   the request answered.
 * @param vmId        the VM.
 * @param outcome     how it went.
 * @param memoryBytes the memory the guest holds now, bytes (-1 if unknown: no answer).
 * @param processors  the weight it runs at now (-1 if unknown).
 * @param reason      why it stopped short or refused, in words (empty when {@link Outcome#MET}).
 */
public record BalloonResult(long requestId, long vmId, Outcome outcome, long memoryBytes, int processors, String reason)
{
    /** How a request ended. */
    public enum Outcome
    {
        /** The guest now holds what was asked. */
        MET,
        /** The guest moved towards the target and stopped short (a floor it keeps, nothing more it can free). */
        SHORT,
        /** The guest was asked and changed nothing (it says why). */
        REFUSED,
        /** The guest has no balloon: it cannot be asked. */
        NO_BALLOON,
        /** No answer before the deadline: counted as a refusal. */
        TIMED_OUT,
        /** The guest or its driver failed (threw, the socket went away, an error reply): counted as a refusal. */
        FAILED
    }

    /** @return whether the guest gave anything: {@link Outcome#MET} or {@link Outcome#SHORT}. */
    public boolean moved()
    {
        return outcome == Outcome.MET || outcome == Outcome.SHORT;
    }
}
