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
    /** @throws NullPointerException if the outcome is null; a null reason is taken as empty. */
    public BalloonResult
    {
        java.util.Objects.requireNonNull(outcome, "outcome");
        reason = reason == null ? "" : reason;
    }

    /** How a request ended. Each has a code stored in the journal: never renumber one, only add. */
    public enum Outcome
    {
        /** The guest now holds what was asked. */
        MET(1),
        /** The guest moved towards the target and stopped short (a floor it keeps, nothing more it can free). */
        SHORT(2),
        /** The guest was asked and changed nothing (it says why), or the host refused the request (a bad target). */
        REFUSED(3),
        /** The guest has no balloon: it cannot be asked. */
        NO_BALLOON(4),
        /** No answer before the deadline: counted as a refusal. */
        TIMED_OUT(5),
        /** The guest or its driver failed (threw, the socket went away, an error reply): counted as a refusal. */
        FAILED(6);

        private static final Outcome[] BY_CODE = new Outcome[7];

        static
        {
            for (final Outcome outcome : values())
            {
                BY_CODE[outcome.code] = outcome;
            }
        }

        private final int code;

        Outcome(final int code)
        {
            this.code = code;
        }

        /** @return the code stored on disk. */
        public int code()
        {
            return code;
        }

        /**
         * @param code a stored code.
         * @return its outcome, or null if the code is unknown (0 is none: a request, not a result).
         */
        public static Outcome of(final int code)
        {
            return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        }
    }

    /**
     * A result the host makes itself (no answer from the guest, or none asked).
     *
     * @param request the request answered.
     * @param outcome how it ended.
     * @param reason  why, in words.
     * @return the result, holdings unknown (-1).
     */
    public static BalloonResult of(final BalloonRequest request, final Outcome outcome, final String reason)
    {
        return new BalloonResult(request.requestId(), request.vmId(), outcome, -1, -1, reason);
    }

    /** @return whether the guest gave anything: {@link Outcome#MET} or {@link Outcome#SHORT}. */
    public boolean moved()
    {
        return outcome == Outcome.MET || outcome == Outcome.SHORT;
    }
}
