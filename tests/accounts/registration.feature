Feature: Self-registration with administrator approval
  New employees register themselves; an administrator approves or rejects the
  registration; only approved users can log in and reserve rooms.

  Background:
    Given an administrator "chief" is logged in
    And the room "Sakura" is open for reservations tomorrow

  Scenario: An approved registration leads to a reservation
    When "hanako" registers with a valid form
    Then the registration of "hanako" is pending
    And "hanako" cannot log in yet because the registration is pending
    And the administrator sees "hanako" among the pending users
    When the administrator approves "hanako"
    Then "hanako" can log in
    And "hanako" can reserve "Sakura" tomorrow from "10:00" to "11:00"
    And "hanako" has received the mails "We received your registration" and "Your account has been approved"
    And the administrator has been told about the registration of "hanako"

  Scenario: A rejected registration cannot log in
    When "taro" registers with a valid form
    And the administrator rejects "taro" with the reason "Not an employee"
    Then "taro" cannot log in because the registration was not approved
    And "taro" has received the mails "We received your registration" and "Your registration was not approved"
