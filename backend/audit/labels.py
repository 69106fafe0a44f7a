"""What the audit log's codes mean, in the reader's language: actions ("placement.offered") and record types.

The log keeps the codes (they are stable and searchable); pages show these labels, with the code beside them
for staff who search by it. A code without a label is shown as it is, and a test finds any action recorded in
the code base that has none.
"""

from __future__ import annotations

from backend.core.i18n import lazy_gettext

ACTION_LABELS = {
    "account.claimed": lazy_gettext("Imported applicant created their account"),
    "account.created": lazy_gettext("Account created"),
    "account.deleted": lazy_gettext("Account deleted"),
    "account.email_verified": lazy_gettext("E-mail address confirmed"),
    "account.exported": lazy_gettext("Personal data downloaded"),
    "account.password_changed": lazy_gettext("Password changed"),
    "account.password_reset": lazy_gettext("Password reset"),
    "account.password_reset_requested": lazy_gettext("Password reset asked for"),
    "account.signed_up": lazy_gettext("Signed up"),
    "api_token.created": lazy_gettext("API token created"),
    "api_token.revoked": lazy_gettext("API token revoked"),
    "api_token.revoked_all": lazy_gettext("Every API token revoked"),
    "applicant.imported": lazy_gettext("Applicants imported from a file"),
    "applicant.imported_created": lazy_gettext("Applicant created by an import"),
    "applicant.imported_updated": lazy_gettext("Applicant updated by an import"),
    "applicant.origin_confirmation_reset": lazy_gettext("Guangdong confirmation cleared after a new declaration"),
    "applicant.origin_confirmed": lazy_gettext("Guangdong participant confirmed by the Guangdong office"),
    "applicant.origin_refused": lazy_gettext("Guangdong participant refused by the Guangdong office"),
    "applicant.purged": lazy_gettext("Applicant's personal data erased"),
    "applicant_cv.deleted": lazy_gettext("CV deleted"),
    "applicant_cv.replaced": lazy_gettext("CV replaced"),
    "applicant_cv.uploaded": lazy_gettext("CV uploaded"),
    "applicant_profile.resubmitted": lazy_gettext("Profile submitted again"),
    "applicant_profile.saved": lazy_gettext("Profile saved"),
    "applicant_profile.submitted": lazy_gettext("Profile submitted"),
    "choice.added": lazy_gettext("Project chosen"),
    "choice.interviewed": lazy_gettext("Interview outcome recorded"),
    "choice.moved": lazy_gettext("Choices put in a new order"),
    "choice.shortlisted": lazy_gettext("Applicant shortlisted"),
    "choice.withdrawn": lazy_gettext("Choice withdrawn"),
    "complaint.acknowledged": lazy_gettext("Complaint acknowledged"),
    "complaint.investigating": lazy_gettext("Complaint under investigation"),
    "complaint.not_upheld": lazy_gettext("Complaint not upheld"),
    "complaint.purged": lazy_gettext("Complaint erased"),
    "complaint.received": lazy_gettext("Complaint received"),
    "complaint.shared": lazy_gettext("Complaint shared with the organisation"),
    "complaint.upheld": lazy_gettext("Complaint upheld"),
    "completion_report.accepted": lazy_gettext("Completion report accepted"),
    "completion_report.returned": lazy_gettext("Completion report returned with comments"),
    "completion_report.sent": lazy_gettext("Completion report sent"),
    "confirmation.purged": lazy_gettext("Intern's survey comments erased after the retention period"),
    "confirmation.sent": lazy_gettext("Intern confirmed what they received"),
    "match.exclude": lazy_gettext("Applicant excluded from a project in a round"),
    "match.exclude_removed": lazy_gettext("Exclusion from a project removed"),
    "match.pin": lazy_gettext("Applicant pinned to a project in a round"),
    "match.pin_removed": lazy_gettext("Pin to a project removed"),
    "match.proposals_approved": lazy_gettext("Round's proposals approved: offers sent"),
    "match.proposals_refused": lazy_gettext("Round's proposals refused"),
    "match.round_cancelled": lazy_gettext("Matching round cancelled"),
    "match.round_failed": lazy_gettext("Matching round failed"),
    "match.round_rerun": lazy_gettext("Matching round run again"),
    "match.round_reviewed": lazy_gettext("Matching round reviewed"),
    "match.round_started": lazy_gettext("Matching round started"),
    "match.round_succeeded": lazy_gettext("Matching round finished"),
    "organisation.member_invited": lazy_gettext("Colleague invited"),
    "organisation.member_joined": lazy_gettext("Colleague joined"),
    "organisation.registered": lazy_gettext("Organisation registered"),
    "organisation.verified": lazy_gettext("Organisation verified"),
    "payment.paid": lazy_gettext("Grant payment approved and paid"),
    "payment.proposed": lazy_gettext("Grant payment proposed"),
    "payment.refused": lazy_gettext("Grant payment refused"),
    "placement.accepted": lazy_gettext("Offer accepted"),
    "placement.declined": lazy_gettext("Offer declined"),
    "placement.expired": lazy_gettext("Offer expired"),
    "placement.offered": lazy_gettext("Offer made"),
    "placement.outcome_recorded": lazy_gettext("Intern's outcome recorded"),
    "placement.withdrawn": lazy_gettext("Offer withdrawn"),
    "portfolio.confirmed": lazy_gettext("Funding portfolio confirmed"),
    "portfolio.proposed": lazy_gettext("Funding portfolio proposed"),
    "project.assessment_started": lazy_gettext("Project assessment started"),
    "project.closed": lazy_gettext("Project closed to applications"),
    "project.completed": lazy_gettext("Project completed"),
    "project.decision_confirmed": lazy_gettext("Funding decision confirmed"),
    "project.decision_proposed": lazy_gettext("Funding decision proposed"),
    "conflict_of_interest.declared": lazy_gettext("Conflict of interest declared"),
    "project.scores_moderated": lazy_gettext("Two independent scores moderated"),
    "project.drafted": lazy_gettext("Project drafted"),
    "project.portfolio_funded": lazy_gettext("Project funded in the scheme's portfolio"),
    "project.edited": lazy_gettext("Project edited"),
    "project.opened": lazy_gettext("Project opened for applications"),
    "project.ranking_set": lazy_gettext("Applicants' ranking saved"),
    "project.submitted": lazy_gettext("Project submitted for funding"),
    "scheme.created": lazy_gettext("Scheme created"),
    "scheme.edited": lazy_gettext("Scheme edited"),
    "scheme.payment_terms_changed": lazy_gettext("Scheme's payment terms changed"),
    "second_factor.enrolled": lazy_gettext("Authenticator app set up"),
    "second_factor.failed": lazy_gettext("Wrong sign-in code"),
    "second_factor.locked": lazy_gettext("Sign-in codes locked after too many tries"),
    "second_factor.recovery_code_used": lazy_gettext("Recovery code used"),
    "second_factor.reset": lazy_gettext("Authenticator app reset"),
    "second_factor.succeeded": lazy_gettext("Signed in with a code"),
    "second_factor.turned_off": lazy_gettext("Authenticator app turned off"),
    "sign_in.failed": lazy_gettext("Sign-in failed"),
}

RECORD_LABELS = {
    "api_token": lazy_gettext("API token"),
    "applicant_import": lazy_gettext("Import file"),
    "applicant_profile": lazy_gettext("Applicant"),
    "choice": lazy_gettext("Choice"),
    "complaint": lazy_gettext("Complaint"),
    "completion_report": lazy_gettext("Completion report"),
    "grant_payment": lazy_gettext("Grant payment"),
    "intern_confirmation": lazy_gettext("Intern's confirmation"),
    "match_adjustment": lazy_gettext("Round adjustment"),
    "match_run": lazy_gettext("Matching round"),
    "organisation": lazy_gettext("Organisation"),
    "placement": lazy_gettext("Offer"),
    "project": lazy_gettext("Project"),
    "scheme": lazy_gettext("Scheme"),
    "user": lazy_gettext("Account"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def record_label(code: str) -> str:
    label = RECORD_LABELS.get(code)
    return str(label) if label is not None else code
