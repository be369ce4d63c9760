package io.vmsched.journal;

/**
 * A host's append-only journal of what its scheduler did (the SPI; {@link ChronicleJournal} is the
 * implementation). Records follow the schema of {@link JournalRecord}.
 * <p>
 * Threading: appends belong to one thread at a time, the host agent (after {@link #handOver()} the
 * next thread to append owns it); {@link #replay} may run on any thread and sees every record whose
 * append has returned.
 */
public interface Journal extends AutoCloseable
{
    /** @return the id of the host whose journal this is. */
    int hostId();

    /**
     * Append a record without payload. Allocates nothing.
     *
     * @return the record's index.
     */
    long append(RecordType type, long migrationId, long vmId, int peer, int aux, double a, double b);

    /**
     * Append a record whose payload is a guest: its kind and state. Allocates nothing unless the
     * payload is larger than any before it.
     *
     * @param aux      the guest's weight.
     * @param kindUtf8 the guest kind's name as UTF-8.
     * @param state    the guest's state bytes.
     * @return the record's index.
     */
    long appendGuest(RecordType type, long migrationId, long vmId, int peer, int aux, byte[] kindUtf8, byte[] state);

    /**
     * Append a record whose payload is text: the detail of its code (ABORTED reasons, DECISION summaries).
     *
     * @param code the record's code: {@link AbortReason#code()} for ABORTED, a
     *             {@link io.vmsched.balance.DecisionOutcome#code()} for DECISION, 0 for none.
     * @param text the detail, stored as UTF-8.
     * @return the record's index.
     */
    long appendText(RecordType type, long migrationId, long vmId, int peer, int aux, double a, double b, int code,
        String text);

    /**
     * Append a record whose payload is bytes laid out by the type's descriptor (a LOAD_SNAPSHOT's
     * {@link LoadSnapshot}). Allocates nothing unless the payload is larger than any before it.
     *
     * @param payload holds the payload.
     * @param offset  where it starts.
     * @param length  its length.
     * @return the record's index.
     */
    long appendPayload(RecordType type, long migrationId, long vmId, int peer, int aux, double a, double b,
        org.agrona.DirectBuffer payload, int offset, int length);

    /**
     * Read every record from the start, in order.
     *
     * @param handler receives each record.
     * @return number of records read.
     * @throws JournalCorruptException at the first record that cannot be decoded, naming its index.
     */
    long replay(RecordHandler handler);

    /** @return records appended through this instance since it was opened (a racy read from any thread). */
    long recordsAppended();

    /** Let another thread become the appending thread (say, when the host agent starts). */
    void handOver();

    /** Close the journal; every record appended so far stays on disk. */
    @Override
    void close();
}
