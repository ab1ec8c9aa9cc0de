from django.contrib.auth.backends import ModelBackend

from tongban.accounts.models import User
from tongban.accounts.services import login_failed, login_locked_until, login_succeeded


class LockoutAwareBackend(ModelBackend):
    """Django's model backend, refusing locked accounts and counting failures toward a lock."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            User().set_password(
                password
            )  # same work as a real check: no timing hint that the name is unknown
            return None
        if login_locked_until(user):
            if request is not None:
                request.tongban_locked = True
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            login_succeeded(user)
            return user
        login_failed(user)
        return None
