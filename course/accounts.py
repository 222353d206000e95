"""Accounts: sign-up with an email address, the learner's account page, the answer to a login
paused after too many wrong passwords, and the password-reset form that stops sending email
after too many requests.

Log in, log out, password change and password reset are Django's own views (wired in
course/urls.py; the reset form adds the limit of course.reset_limit) with templates in
templates/registration/ in the site's style.

The email address is required at sign-up: it is the only way back into an account whose password
is forgotten, and the account holds what the learner earned (read lessons, quiz and test scores,
lab conversations). It is used for password reset only and shown to no one else.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from course import reset_limit

logger = logging.getLogger(__name__)

EMAIL_HELP = "Used only to reset a forgotten password; never shown to anyone else."


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return None


def _unused_email(email: str, user: User | None = None) -> str:
    """The address, refused when another account has it (a reset link must reach one person)."""
    others = User.objects.filter(email__iexact=email)
    if user is not None:
        others = others.exclude(pk=user.pk)
    if others.exists():
        raise forms.ValidationError(
            "Another account already uses this email address. Log in to that account, or use "
            "“Forgot your password?” on the log-in page."
        )
    return email


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(label="Email", max_length=254, help_text=EMAIL_HELP)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        return _unused_email(User.objects.normalize_email(self.cleaned_data["email"]))


class EmailForm(forms.ModelForm[User]):
    email = forms.EmailField(label="Email", max_length=254, help_text=EMAIL_HELP)

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        return _unused_email(email, self.instance)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_safe_next(request) or "home")
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    form = EmailForm(request.POST or None, instance=user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your email address is saved.")
            return redirect("account")
        user.refresh_from_db()  # the page shows the stored address beside the refused one
    return render(
        request, "registration/account.html", {"form": form}, status=400 if form.errors else 200
    )


def lockout_sentence(minutes: int) -> str:
    return (
        "Too many wrong passwords for this account from your network, so logging in is paused "
        f"for {minutes} minutes. Try again after that; if you have forgotten your password, "
        "“Forgot your password?” below sets a new one meanwhile."
    )


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any]
) -> HttpResponse:
    """django-axes' answer to a locked-out login: the login page again, saying why and for how
    long, with the username still in its box (429, the status of a throttled request)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": _safe_next(request) or "", "lockout": lockout_sentence(minutes)},
        status=429,
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, which refuses (429) once too many reset emails were asked for: the
    form again with a sentence saying why and for how long, the typed address in its box, and
    no email. It refuses an address with no account the same way, so it reveals none."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        refusal = reset_limit.admit(self.request, form.cleaned_data["email"])
        if refusal is None:
            return super().form_valid(form)
        logger.warning("password reset refused", extra={"limit": refusal.limit})
        form.add_error(None, refusal.sentence)
        return self.render_to_response(self.get_context_data(form=form), status=429)
