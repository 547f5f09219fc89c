-- Disclosure control of the subject marts, linked pass 6 (enabled when var disclosure_linked_passes >= 6).
-- One model per pass, all alike (macro subject_maturity_suppression_pass,
-- macros/linked_suppression.sql; docs/marts/disclosure-control.md).
{{ subject_maturity_suppression_pass(6) }}
