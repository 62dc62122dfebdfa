"""Request and response bodies of the staff-user and sign-in endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pb_registry.fields import given_not_null
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.fields import Line, PrefectureCode

StaffRole = Literal["admin", "viewer", "prefecture"]
MIN_PASSWORD_LENGTH = 12

Username = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$"),
    Field(description="3–64 characters: lower-case ASCII letters, digits, '.', '_' and '-'", examples=["zhang.wei"]),
]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256),
    Field(description=f"at least {MIN_PASSWORD_LENGTH} characters; stored only as an Argon2id hash"),
]
# What a sign-in or a password check receives: any text up to the limit (a too-short one is simply wrong).
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=256)]
GuizhouPrefecture = Annotated[PrefectureCode, Field(description="one of Guizhou's 9 prefectures (市州), e.g. 520300")]


def _in_guizhou(code: str | None) -> str | None:
    if code is not None and not code.startswith(GUIZHOU_PROVINCE_CODE):
        raise ValueError(f"{code} is not a prefecture of Guizhou")
    return code


def check_scope(role: str, prefecture_code: str | None) -> None:
    """A prefecture user is limited to one prefecture; the other roles are province-wide."""
    if role == "prefecture" and prefecture_code is None:
        raise ValueError("a prefecture user needs the prefecture_code of its 市州")
    if role != "prefecture" and prefecture_code is not None:
        raise ValueError(f"an {role} user is province-wide; omit prefecture_code")


class UserIn(BaseModel):
    username: Username
    display_name: Line = Field(min_length=1, max_length=200, description="the person's name, e.g. 张伟")
    role: StaffRole
    prefecture_code: GuizhouPrefecture | None = Field(
        default=None, description="required for the `prefecture` role, refused for the others"
    )
    password: NewPassword

    _guizhou = field_validator("prefecture_code")(_in_guizhou)

    @field_validator("display_name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("display_name must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _scope(self) -> UserIn:
        check_scope(self.role, self.prefecture_code)
        return self


class UserChange(BaseModel):
    display_name: Line | None = Field(default=None, min_length=1, max_length=200)
    role: StaffRole | None = None
    prefecture_code: GuizhouPrefecture | None = Field(
        default=None, description="give it with a change to the `prefecture` role; null when leaving that role"
    )
    active: bool | None = Field(default=None, description="a disabled user cannot sign in, and their tokens are refused")

    _not_null = field_validator("display_name", "role", "active")(given_not_null)
    _guizhou = field_validator("prefecture_code")(_in_guizhou)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    role: StaffRole
    prefecture_code: str | None
    active: bool
    locked_until: datetime | None = Field(description="while in the future, sign-in is refused (423)")
    failed_sign_ins: int = Field(description="consecutive failed sign-ins since the last success or unlock")
    password_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class SignIn(BaseModel):
    username: Annotated[Line, StringConstraints(min_length=1, max_length=64)]
    password: GivenPassword


class SignedIn(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut


class PasswordReset(BaseModel):
    password: NewPassword


class PasswordChange(BaseModel):
    current_password: GivenPassword
    new_password: NewPassword


class UserFilters(BaseModel):
    """The query of `GET /users`: each filter given narrows the list."""

    role: StaffRole | None = None
    active: bool | None = None
