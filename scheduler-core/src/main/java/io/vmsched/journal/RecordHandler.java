package io.vmsched.journal;

/**
 * Receives journal records in order.
 */
@FunctionalInterface
public interface RecordHandler
{
    /**
     * @param index  the record's position in its journal (increasing, not necessarily consecutive).
     * @param record the record, valid only during the call.
     */
    void onRecord(long index, JournalRecord record);
}
