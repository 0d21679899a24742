from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field, field_validator

from tripl.workspace.users.schemas import AuthUserResponse

__all__ = ["AuthStatusResponse", "AuthUserResponse", "LoginRequest", "RegisterRequest"]


class RegisterRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=255)
    name: str | None = Field(default=None, max_length=255)

    @field_validator("name")
    @classmethod
    def blank_name_is_none(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=255)


class AuthStatusResponse(BaseModel):
    has_users: bool
    registration_enabled: bool
