-- Disclosure control of the subject marts, pass 0: small cells, then complementary cells in each segment type.
-- One model per pass, all alike (macro subject_maturity_suppression_pass,
-- macros/linked_suppression.sql; docs/marts/disclosure-control.md).
{{ subject_maturity_suppression_pass(0) }}
