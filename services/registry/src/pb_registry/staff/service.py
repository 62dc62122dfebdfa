"""Staff users: their management by admins, their passwords, and signing in with lockout and throttling.

A sign-in is judged in two steps. The password is verified against the stored Argon2id hash outside any
transaction (it is deliberately slow); then one unit of work takes the user's row under its lock, counts the
outcome (the failure counter, the lock, the source address's failures) and audits it, and commits whether
the sign-in succeeded or not: a refused sign-in is still a fact to keep.

Two limits stop password guessing. A user's account locks after `sign_in_max_failures` consecutive
failures, for `sign_in_lock_s`, or until an admin unlocks it. And a source address that failed
`sign_in_address_limit` times within `sign_in_address_window_s`, whatever the usernames, is refused (429)
before any password is verified: one address can neither spray passwords over many accounts nor, once
throttled, keep locking an account it does not own by failing at it again and again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pb_registry.auth.keys import Keyring
from pb_registry.auth.secrets import hash_secret, needs_rehash, secret_matches
from pb_registry.auth.service import publish_subject_access
from pb_registry.auth.tokens import issue_token, token_time
from pb_registry.events import CLIENT_DISABLED, CLIENT_ENABLED, CLIENT_SECRET_ROTATED
from pb_registry.models import SignInFailure, StaffUser
from pb_registry.settings import Settings
from pb_registry.staff.schemas import SignedIn, SignIn, UserChange, UserIn, UserOut, check_scope
from pbkit.context import Actor
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.queries import equals, where_given
from pbkit.uow import UnitOfWork

Clock = Callable[[], datetime]
UowFactory = Callable[[], UnitOfWork]


class SignInRefused(Exception):
    """A refused sign-in: `kind` is "credentials" (401), "locked" (423) or "throttled" (429)."""

    def __init__(self, kind: str, detail: str, *, retry_after_s: int | None = None):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


_WRONG = "wrong username or password, or the user is disabled"


# --- management (admin) ------------------------------------------------------------------------


def create_user(*, uow: UnitOfWork, data: UserIn, now: datetime) -> UserOut:
    if uow.session.scalars(select(StaffUser.id).where(StaffUser.username == data.username)).first() is not None:
        raise Conflict(f"a user named {data.username!r} already exists")
    user = StaffUser(
        id=new_id(),
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        prefecture_code=data.prefecture_code,
        password_hash=hash_secret(data.password),
        active=True,
        failed_sign_ins=0,
        locked_until=None,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    uow.session.flush()
    uow.audit("user.create", target_type="user", target_id=user.id,
              details={"username": user.username, "role": user.role, "prefecture_code": user.prefecture_code})
    return UserOut.model_validate(user)


def users_query(*, role: str | None = None, active: bool | None = None) -> Select:
    return where_given(select(StaffUser), (role, equals(StaffUser.role)), (active, equals(StaffUser.active)))


def get_user(*, session: Session, user_id: str, lock: bool = False) -> StaffUser:
    user = session.get(StaffUser, user_id, with_for_update=lock)
    if user is None:
        raise NotFound(f"no user {user_id!r}")
    return user


def update_user(*, uow: UnitOfWork, user_id: str, change: UserChange, now: datetime) -> UserOut:
    """Renames, moves to another role or prefecture, disables or enables a user. A disabled user's tokens are
    refused from then on, everywhere, as a disabled client's are; an admin cannot disable or demote itself."""
    user = get_user(session=uow.session, user_id=user_id, lock=True)
    given = change.model_dump(exclude_unset=True)
    if user_id == uow.actor.client_id and (given.get("active") is False or given.get("role", "admin") != "admin"):
        raise Conflict("a user cannot disable or demote itself: ask another admin")
    if "role" in given and given["role"] != "prefecture" and "prefecture_code" not in given:
        given["prefecture_code"] = None  # leaving the prefecture role leaves its prefecture
    role, prefecture = given.get("role", user.role), given.get("prefecture_code", user.prefecture_code)
    try:
        check_scope(role, prefecture)
    except ValueError as bad:
        raise RuleBroken.field(["body", "prefecture_code"], str(bad)) from None
    changed = {field: value for field, value in given.items() if getattr(user, field) != value}
    if not changed:
        return UserOut.model_validate(user)
    for field, value in changed.items():
        setattr(user, field, value)
    user.updated_at = now
    uow.audit("user.update", target_type="user", target_id=user_id, details=changed)
    if changed.get("active") is False or {"role", "prefecture_code"} & changed.keys():
        # A token carries the role and the prefecture: the old ones must not outlive the change.
        _withdraw_tokens(uow, user, CLIENT_DISABLED if changed.get("active") is False else CLIENT_SECRET_ROTATED)
    elif changed.get("active") is True:
        _publish(uow, user, CLIENT_ENABLED)
    return UserOut.model_validate(user)


def reset_password(*, uow: UnitOfWork, user_id: str, password: str, now: datetime) -> UserOut:
    """An admin sets a new password (told to the user out of band); it unlocks the account, and the tokens
    obtained with the old one are refused."""
    user = get_user(session=uow.session, user_id=user_id, lock=True)
    _set_password(uow, user, password, now)
    user.failed_sign_ins, user.locked_until = 0, None
    uow.audit("user.reset_password", target_type="user", target_id=user_id)
    return UserOut.model_validate(user)


def unlock(*, uow: UnitOfWork, user_id: str, now: datetime) -> UserOut:
    user = get_user(session=uow.session, user_id=user_id, lock=True)
    was_locked = user.locked_until is not None and user.locked_until > now
    user.failed_sign_ins, user.locked_until, user.updated_at = 0, None, now
    uow.audit("user.unlock", target_type="user", target_id=user_id, details={"was_locked": was_locked})
    return UserOut.model_validate(user)


# --- the user's own account --------------------------------------------------------------------


def own_user(*, session: Session, actor: Actor) -> StaffUser:
    user = session.get(StaffUser, actor.client_id)
    if user is None:
        raise NotFound("this token is an API client's, not a staff user's")
    return user


def checked_own_password(*, sessions: sessionmaker[Session], actor: Actor, current_password: str) -> str:
    """The precheck of a password change: the caller's current password, verified outside any transaction.
    Returns the hash it matched, so that the change applies only if nobody changed it meanwhile."""
    with sessions() as session:
        user = own_user(session=session, actor=actor)
        stored = user.password_hash
    if not secret_matches(stored, current_password):
        raise RuleBroken.field(["body", "current_password"], "the current password is wrong")
    return stored


def change_own_password(*, uow: UnitOfWork, checked_hash: str, new_password: str, now: datetime) -> UserOut:
    user = get_user(session=uow.session, user_id=uow.actor.client_id, lock=True)
    if user.password_hash != checked_hash:
        raise Conflict("the password was changed by another request meanwhile; sign in again")
    if secret_matches(user.password_hash, new_password):
        raise RuleBroken.field(["body", "new_password"], "the new password must differ from the current one")
    _set_password(uow, user, new_password, now)
    uow.audit("user.change_password", target_type="user", target_id=user.id)
    return UserOut.model_validate(user)


def _set_password(uow: UnitOfWork, user: StaffUser, password: str, now: datetime) -> None:
    user.password_hash = hash_secret(password)
    user.password_changed_at = user.updated_at = now
    _withdraw_tokens(uow, user, CLIENT_SECRET_ROTATED)


def _withdraw_tokens(uow: UnitOfWork, user: StaffUser, event_type: str) -> None:
    """As `auth.service.withdraw_tokens` for a client: the registry refuses the user's older tokens at once
    (`StoredRevocations`), the other services once the event reaches their revocation feed."""
    user.tokens_valid_after = token_time(utcnow())  # the clock of the tokens' `iat`, not the sign-in clock
    _publish(uow, user, event_type)


def _publish(uow: UnitOfWork, user: StaffUser, event_type: str) -> None:
    publish_subject_access(uow=uow, subject=user.id, active=user.active, tokens_valid_after=user.tokens_valid_after,
                           event_type=event_type, at=user.tokens_valid_after if event_type != CLIENT_ENABLED else None)


# --- signing in --------------------------------------------------------------------------------


def sign_in(
    *, sessions: sessionmaker[Session], system_uow: UowFactory, body: SignIn, address: str, now: datetime,
    keyring: Keyring, settings: Settings,
) -> SignedIn:
    _throttle(system_uow, body.username, address, now, settings)
    with sessions() as session:
        found = session.scalars(select(StaffUser).where(StaffUser.username == body.username)).first()
        seen_hash = found.password_hash if found is not None else None
    matched = secret_matches(seen_hash, body.password)  # the decoy's cost when there is no such user

    with system_uow() as uow:
        user = get_user(session=uow.session, user_id=found.id, lock=True) if found is not None else None
        if user is not None and user.locked_until is not None:
            if user.locked_until > now:
                _failed(uow, address, now, body.username, "locked")
                uow.commit()
                raise SignInRefused("locked", _locked_detail(user.locked_until),
                                    retry_after_s=_seconds_until(user.locked_until, now))
            user.failed_sign_ins, user.locked_until = 0, None  # the lock has run out: a fresh count
        if user is None or not user.active or not matched or user.password_hash != seen_hash:
            locked = user is not None and user.active and _count_failure(uow, user, now, settings)
            _failed(uow, address, now, body.username, "wrong credentials")
            uow.commit()
            if locked:
                raise SignInRefused("locked", f"{_WRONG}; {_locked_detail(user.locked_until)}",
                                    retry_after_s=settings.sign_in_lock_s)
            raise SignInRefused("credentials", _WRONG)
        user.failed_sign_ins = 0
        if needs_rehash(user.password_hash):
            user.password_hash = hash_secret(body.password)
        uow.actor = Actor(user.id, user.role)
        uow.audit("user.sign_in", target_type="user", target_id=user.id, details={"address": address})
        signed_in = SignedIn(
            access_token=issue_token(keyring=keyring, settings=settings, client_id=user.id, role=user.role,
                                     prefecture_code=user.prefecture_code),
            expires_in=settings.token_ttl_s,
            user=UserOut.model_validate(user),
        )
        uow.commit()
    return signed_in


def _throttle(system_uow: UowFactory, username: str, address: str, now: datetime, settings: Settings) -> None:
    window_start = now - timedelta(seconds=settings.sign_in_address_window_s)
    with system_uow() as uow:
        uow.session.execute(delete(SignInFailure).where(SignInFailure.address == address,
                                                        SignInFailure.at <= window_start))
        recent = uow.session.execute(
            select(func.count(), func.min(SignInFailure.at)).where(SignInFailure.address == address)
        ).one()
        if recent[0] >= settings.sign_in_address_limit:
            uow.audit("user.sign_in_throttled", target_type="address", target_id=address,
                      details={"username": username})
            uow.commit()
            free_at = recent[1] + timedelta(seconds=settings.sign_in_address_window_s)
            raise SignInRefused(
                "throttled", "too many failed sign-ins from this address; try again later",
                retry_after_s=_seconds_until(free_at, now),
            )
        uow.commit()


def _count_failure(uow: UnitOfWork, user: StaffUser, now: datetime, settings: Settings) -> bool:
    """Counts a wrong password against the user; True when it locks the account."""
    user.failed_sign_ins += 1
    if user.failed_sign_ins < settings.sign_in_max_failures:
        return False
    user.locked_until = now + timedelta(seconds=settings.sign_in_lock_s)
    uow.audit("user.lock", target_type="user", target_id=user.id,
              details={"failures": user.failed_sign_ins, "until": user.locked_until.isoformat()})
    return True


def _failed(uow: UnitOfWork, address: str, now: datetime, username: str, reason: str) -> None:
    uow.session.add(SignInFailure(address=address, at=now))
    uow.audit("user.sign_in_failed", target_type="address", target_id=address,
              details={"username": username, "reason": reason})


def _locked_detail(until: datetime) -> str:
    return f"the account is locked until {until.isoformat(timespec='seconds')} after repeated failed sign-ins"


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def ensure_bootstrap_staff_admin(*, uow: UnitOfWork, username: str, password: str) -> None:
    """Create the staff admin of PB_BOOTSTRAP_STAFF_USERNAME when no user has that name (at every start).

    An existing user of that name is left as it is: its password may have been changed since, and an
    existing viewer is never promoted to admin from the environment."""
    if uow.session.scalars(select(StaffUser.id).where(StaffUser.username == username)).first() is not None:
        return
    try:
        create_user(uow=uow, data=UserIn(username=username, display_name="管理员", role="admin", password=password),
                    now=utcnow())
        uow.commit()
    except IntegrityError:
        uow.rollback()  # another registry process created it at the same moment
